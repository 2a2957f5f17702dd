//! Packet limits: the answer-count limits Consul has, then the byte size a response
//! may take (512 bytes over UDP without EDNS, the client's EDNS size with it, 64 KiB
//! over TCP). Answers are dropped from the end, and the Additional records of the
//! dropped answers' targets go with them.

use hickory_proto::rr::rdata::{CNAME, NS, PTR};
use hickory_proto::rr::{Name, RData, Record};

use crate::answer::Response;

/// The limits one response must respect.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes every response takes whatever its records: header, question, OPT.
    pub overhead: usize,
    /// The most answers, and whether dropping answers for it sets TC.
    pub max_answers: Option<(usize, bool)>,
    /// The most bytes the encoded response may take.
    pub max_bytes: usize,
    /// Whether dropping answers to fit `max_bytes` sets TC (UDP only: over TCP the
    /// client has nowhere else to ask).
    pub truncation_flag: bool,
}

/// A response cut to its limits, in wire order.
#[derive(Debug, Default)]
pub struct Fitted {
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
    pub truncated: bool,
}

/// Cuts `response` to `limits`. `fits_in` tells whether a candidate response (answers,
/// authority, additional) encodes whole within a number of bytes; it is asked only
/// when size bounds cannot tell, so that a response that obviously fits is encoded
/// once, when it is sent.
pub fn fit(
    response: Response,
    limits: Limits,
    fits_in: impl Fn(&[Record], &[Record], &[Record], usize) -> bool,
) -> Fitted {
    let Response {
        mut answers,
        mut additional,
        additional_end,
        authority,
        ..
    } = response;
    let additional_for = |count: usize| count.checked_sub(1).map_or(0, |last| additional_end[last]);
    let mut truncated = false;
    let mut count = answers.len();
    if let Some((max, flags)) = limits.max_answers
        && count > max
    {
        count = max;
        truncated |= flags;
    }
    // Byte bounds of each prefix of answers with their Additional records.
    let fixed = authority.iter().map(record_bounds).fold(
        (limits.overhead, limits.overhead),
        |(low, high), (record_low, record_high)| (low + record_low, high + record_high),
    );
    let mut surely_fits = 0;
    let mut maybe_fits = 0;
    let (mut low_total, mut high_total) = fixed;
    for i in 0..count {
        let extras = &additional[additional_for(i)..additional_for(i + 1)];
        for (low, high) in std::iter::once(&answers[i])
            .chain(extras)
            .map(record_bounds)
        {
            low_total += low;
            high_total += high;
        }
        if high_total <= limits.max_bytes {
            surely_fits = i + 1;
        }
        if low_total > limits.max_bytes {
            break;
        }
        maybe_fits = i + 1;
    }
    if surely_fits < count {
        // The largest prefix in [surely_fits, maybe_fits] that encodes within the limit.
        let fits = |count: usize| {
            fits_in(
                &answers[..count],
                &authority,
                &additional[..additional_for(count)],
                limits.max_bytes,
            )
        };
        let (mut low, mut high) = (surely_fits, maybe_fits);
        while low < high {
            let middle = (low + high).div_ceil(2);
            if fits(middle) {
                low = middle;
            } else {
                high = middle - 1;
            }
        }
        if low < count {
            truncated |= limits.truncation_flag;
        }
        count = low;
    }
    additional.truncate(additional_for(count));
    answers.truncate(count);
    Fitted {
        answers,
        authority,
        additional,
        truncated,
    }
}

/// The fewest and the most bytes `record` can take in a message: its owner name
/// compressed to a pointer, or written out; names in SRV data are never compressed
/// (RFC 2782), those in CNAME, PTR, NS and SOA data may be.
pub fn record_bounds(record: &Record) -> (usize, usize) {
    const FIXED: usize = 10; // type, class, TTL, data length
    const POINTER: usize = 2;
    let wire = |name: &Name| name.len() + 1;
    let (data_low, data_high) = match &record.data {
        RData::A(_) => (4, 4),
        RData::AAAA(_) => (16, 16),
        RData::SRV(srv) => {
            let exact = 6 + wire(&srv.target);
            (exact, exact)
        }
        RData::CNAME(CNAME(name)) | RData::PTR(PTR(name)) | RData::NS(NS(name)) => {
            (POINTER, wire(name))
        }
        RData::TXT(txt) => {
            let exact = txt.txt_data.iter().map(|text| 1 + text.len()).sum();
            (exact, exact)
        }
        RData::SOA(soa) => (2 * POINTER + 20, wire(&soa.mname) + wire(&soa.rname) + 20),
        // Other types are never built here; bounds that only make the encoder decide.
        _ => (0, usize::from(u16::MAX)),
    };
    (
        POINTER + FIXED + data_low,
        wire(&record.name) + FIXED + data_high,
    )
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::rdata::A;

    use super::*;

    fn a(name: &str, last: u8) -> Record {
        Record::from_rdata(
            Name::from_ascii(name).unwrap(),
            0,
            RData::A(A(Ipv4Addr::new(10, 0, 0, last))),
        )
    }

    fn response(count: u8) -> Response {
        let mut response = Response::empty(ResponseCode::NoError);
        for i in 0..count {
            let target = format!("n{i}.node.dc1.consul.");
            response.push(a("web.service.consul.", i), [a(&target, i)]);
        }
        response
    }

    /// A stand-in size: 25 bytes a record, between the bounds of the records used here.
    fn size(answers: &[Record], authority: &[Record], additional: &[Record], max: usize) -> bool {
        12 + 25 * (answers.len() + authority.len() + additional.len()) <= max
    }

    #[test]
    fn trims_answers_with_their_additionals() {
        let limits = Limits {
            overhead: 12,
            max_answers: None,
            max_bytes: 512,
            truncation_flag: true,
        };
        let fitted = fit(response(40), limits, size);
        assert_eq!(fitted.answers.len(), 10);
        assert_eq!(fitted.additional.len(), 10);
        assert!(fitted.truncated);
        assert_eq!(
            &fitted.additional[1].name,
            &Name::from_ascii("n1.node.dc1.consul.").unwrap()
        );
    }

    #[test]
    fn answer_limits_set_tc_only_when_asked() {
        let quiet = Limits {
            overhead: 12,
            max_answers: Some((3, false)),
            max_bytes: 65535,
            truncation_flag: true,
        };
        let fitted = fit(response(5), quiet, size);
        assert_eq!((fitted.answers.len(), fitted.truncated), (3, false));
        let loud = Limits {
            max_answers: Some((3, true)),
            ..quiet
        };
        assert!(fit(response(5), loud, size).truncated);
        let fitting = fit(response(2), loud, size);
        assert_eq!((fitting.answers.len(), fitting.truncated), (2, false));
    }
}
