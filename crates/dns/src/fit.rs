//! Packet limits: the answer-count limits Consul has, then the byte size a response
//! may take (512 bytes over UDP without EDNS, the client's EDNS size with it, 64 KiB
//! over TCP). Answers are dropped from the end, and the Additional records of the
//! dropped answers' targets go with them.

use std::collections::HashSet;

use hickory_proto::rr::{Name, Record};

use crate::answer::Response;

/// The limits one response must respect.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
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
/// authority, additional) encodes whole within a number of bytes.
pub fn fit(
    response: Response,
    limits: Limits,
    fits_in: impl Fn(&[Record], &[Record], &[Record], usize) -> bool,
) -> Fitted {
    let mut truncated = false;
    let mut answers = response.answers;
    if let Some((max, flags)) = limits.max_answers
        && answers.len() > max
    {
        answers.truncate(max);
        truncated |= flags;
    }
    let records: Vec<Record> = answers.iter().map(|answer| answer.record.clone()).collect();
    let targets: Vec<Option<Name>> = answers.into_iter().map(|answer| answer.target).collect();
    let additional_for = |count: usize| -> Vec<Record> {
        let mut seen = HashSet::new();
        targets[..count]
            .iter()
            .flatten()
            .filter(|target| seen.insert(*target))
            .filter_map(|target| response.extras.get(target))
            .flatten()
            .cloned()
            .collect()
    };
    let fits = |count: usize| {
        fits_in(
            &records[..count],
            &response.authority,
            &additional_for(count),
            limits.max_bytes,
        )
    };
    let mut count = records.len();
    if !fits(count) {
        // The largest prefix that fits: fits(0) is assumed (a bare header and question).
        let (mut low, mut high) = (0, count - 1);
        while low < high {
            let middle = (low + high).div_ceil(2);
            if fits(middle) {
                low = middle;
            } else {
                high = middle - 1;
            }
        }
        count = low;
        truncated |= limits.truncation_flag;
    }
    let additional = additional_for(count);
    let mut answers = records;
    answers.truncate(count);
    Fitted {
        answers,
        authority: response.authority,
        additional,
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::Ipv4Addr;

    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::RData;
    use hickory_proto::rr::rdata::A;

    use super::*;
    use crate::answer::Answer;

    fn a(name: &str, last: u8) -> Record {
        Record::from_rdata(
            Name::from_ascii(name).unwrap(),
            0,
            RData::A(A(Ipv4Addr::new(10, 0, 0, last))),
        )
    }

    fn response(count: u8) -> Response {
        let mut extras = HashMap::new();
        let answers = (0..count)
            .map(|i| {
                let target = Name::from_ascii(format!("n{i}.node.dc1.consul.")).unwrap();
                extras.insert(target.clone(), vec![a(&target.to_ascii(), i)]);
                Answer {
                    record: a("web.service.consul.", i),
                    target: Some(target),
                }
            })
            .collect();
        Response {
            code: ResponseCode::NoError,
            answers,
            extras,
            authority: Vec::new(),
        }
    }

    /// A stand-in size: 100 bytes a record.
    fn size(answers: &[Record], authority: &[Record], additional: &[Record], max: usize) -> bool {
        12 + 100 * (answers.len() + authority.len() + additional.len()) <= max
    }

    #[test]
    fn trims_answers_with_their_additionals() {
        let limits = Limits {
            max_answers: None,
            max_bytes: 512,
            truncation_flag: true,
        };
        let fitted = fit(response(10), limits, size);
        assert_eq!(fitted.answers.len(), 2);
        assert_eq!(fitted.additional.len(), 2);
        assert!(fitted.truncated);
        assert_eq!(
            &fitted.additional[1].name,
            &Name::from_ascii("n1.node.dc1.consul.").unwrap()
        );
    }

    #[test]
    fn answer_limits_set_tc_only_when_asked() {
        let quiet = Limits {
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
