//! Go's notion of an empty value, asked of any `Serialize` value without encoding it:
//! `false`, `0`, `""`, a nil pointer (`None`), an empty list or map. A struct is never
//! empty, as in Go.

use std::fmt;

use serde::ser::{self, Serialize, Serializer};

/// Whether `omitempty` leaves `value` out.
pub(super) fn is_empty<T: Serialize + ?Sized>(value: &T) -> bool {
    value.serialize(Probe::Empty).unwrap_or(false)
}

/// Whether `value` is `None`.
pub(super) fn is_none<T: Serialize + ?Sized>(value: &T) -> bool {
    value.serialize(Probe::None).unwrap_or(false)
}

#[derive(Clone, Copy)]
enum Probe {
    /// Is it Go's zero value?
    Empty,
    /// Is it `None`?
    None,
}

impl Probe {
    fn answer(self, empty: bool) -> Result<bool, Unanswerable> {
        Ok(matches!(self, Probe::Empty) && empty)
    }
}

/// A probe never fails; this only satisfies serde's error bound.
#[derive(Debug)]
pub(super) struct Unanswerable;

impl fmt::Display for Unanswerable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot tell whether the value is empty")
    }
}

impl std::error::Error for Unanswerable {}

impl ser::Error for Unanswerable {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Unanswerable
    }
}

/// Counts the elements of a list or map; a struct's fields are not looked at.
pub(super) struct Count {
    probe: Probe,
    elements: usize,
}

macro_rules! zero_is_empty {
    ($($method:ident($type:ty) = $zero:expr),* $(,)?) => {
        $(fn $method(self, value: $type) -> Result<bool, Unanswerable> {
            self.answer(value == $zero)
        })*
    };
}

impl Serializer for Probe {
    type Ok = bool;
    type Error = Unanswerable;
    type SerializeSeq = Count;
    type SerializeTuple = Count;
    type SerializeTupleStruct = Count;
    type SerializeTupleVariant = Count;
    type SerializeMap = Count;
    type SerializeStruct = Count;
    type SerializeStructVariant = Count;

    zero_is_empty!(
        serialize_bool(bool) = false,
        serialize_i8(i8) = 0,
        serialize_i16(i16) = 0,
        serialize_i32(i32) = 0,
        serialize_i64(i64) = 0,
        serialize_i128(i128) = 0,
        serialize_u8(u8) = 0,
        serialize_u16(u16) = 0,
        serialize_u32(u32) = 0,
        serialize_u64(u64) = 0,
        serialize_u128(u128) = 0,
        serialize_f32(f32) = 0.0,
        serialize_f64(f64) = 0.0,
        serialize_char(char) = '\0',
    );

    fn serialize_str(self, value: &str) -> Result<bool, Unanswerable> {
        self.answer(value.is_empty())
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<bool, Unanswerable> {
        self.answer(value.is_empty())
    }

    fn serialize_none(self) -> Result<bool, Unanswerable> {
        Ok(true)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<bool, Unanswerable> {
        Ok(false)
    }

    fn serialize_unit(self) -> Result<bool, Unanswerable> {
        self.answer(true)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<bool, Unanswerable> {
        self.answer(true)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<bool, Unanswerable> {
        self.answer(variant.is_empty())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<bool, Unanswerable> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<bool, Unanswerable> {
        Ok(false)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Count, Unanswerable> {
        Ok(Count {
            probe: self,
            elements: 0,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Count, Unanswerable> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Count, Unanswerable> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<Count, Unanswerable> {
        self.serialize_seq(Some(len))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Count, Unanswerable> {
        self.serialize_seq(None)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Count, Unanswerable> {
        // Go never treats a struct value as empty: one uncounted element.
        Ok(Count {
            probe: self,
            elements: 1,
        })
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<Count, Unanswerable> {
        self.serialize_struct(name, len)
    }
}

impl Count {
    fn count(&mut self) -> Result<(), Unanswerable> {
        self.elements += 1;
        Ok(())
    }

    fn finish(self) -> Result<bool, Unanswerable> {
        self.probe.answer(self.elements == 0)
    }
}

impl ser::SerializeSeq for Count {
    type Ok = bool;
    type Error = Unanswerable;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Unanswerable> {
        self.count()
    }
    fn end(self) -> Result<bool, Unanswerable> {
        self.finish()
    }
}

impl ser::SerializeTuple for Count {
    type Ok = bool;
    type Error = Unanswerable;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Unanswerable> {
        self.count()
    }
    fn end(self) -> Result<bool, Unanswerable> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Count {
    type Ok = bool;
    type Error = Unanswerable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Unanswerable> {
        self.count()
    }
    fn end(self) -> Result<bool, Unanswerable> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Count {
    type Ok = bool;
    type Error = Unanswerable;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Unanswerable> {
        self.count()
    }
    fn end(self) -> Result<bool, Unanswerable> {
        self.finish()
    }
}

impl ser::SerializeMap for Count {
    type Ok = bool;
    type Error = Unanswerable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Unanswerable> {
        self.count()
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Unanswerable> {
        Ok(())
    }
    fn end(self) -> Result<bool, Unanswerable> {
        self.finish()
    }
}

impl ser::SerializeStruct for Count {
    type Ok = bool;
    type Error = Unanswerable;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unanswerable> {
        Ok(())
    }
    fn end(self) -> Result<bool, Unanswerable> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Count {
    type Ok = bool;
    type Error = Unanswerable;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unanswerable> {
        Ok(())
    }
    fn end(self) -> Result<bool, Unanswerable> {
        self.finish()
    }
}
