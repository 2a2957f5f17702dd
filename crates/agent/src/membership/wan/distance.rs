//! Datacenters ordered by distance, as `/v1/catalog/datacenters` lists them and prepared
//! queries fail over: for each datacenter, the median of the round trips predicted from
//! this server's WAN coordinate to those of its servers; this datacenter first, then the
//! nearest, then those without any coordinate, ties by name.

use std::collections::BTreeMap;
use std::time::Duration;

use proconsul_api::coordinate::Coordinate;

/// The median predicted round trip from `me` to `servers` (`None` without coordinates
/// that fit); with an even count the mean of the two middle ones, as Consul does.
pub fn median_rtt(me: &Coordinate, servers: &[Coordinate]) -> Option<Duration> {
    let mut rtts: Vec<Duration> = servers
        .iter()
        .filter(|coord| coord.is_compatible_with(me))
        .map(|coord| me.distance_to(coord))
        .collect();
    if rtts.is_empty() {
        return None;
    }
    rtts.sort_unstable();
    let middle = rtts.len() / 2;
    Some(if rtts.len() % 2 == 1 {
        rtts[middle]
    } else {
        (rtts[middle - 1] + rtts[middle]) / 2
    })
}

/// The names of `datacenters` (each with its servers' coordinates) in distance order,
/// `local` first.
pub fn by_distance(
    local: &str,
    me: &Coordinate,
    datacenters: &BTreeMap<String, Vec<Coordinate>>,
) -> Vec<String> {
    let mut ranked: Vec<(bool, Option<Duration>, &str)> = datacenters
        .iter()
        .map(|(name, servers)| (name != local, median_rtt(me, servers), name.as_str()))
        .collect();
    if !datacenters.contains_key(local) {
        ranked.push((false, None, local));
    }
    // `None` (no coordinate) sorts after every distance.
    ranked.sort_by(|a, b| (a.0, a.1.is_none(), a.1, a.2).cmp(&(b.0, b.1.is_none(), b.1, b.2)));
    ranked
        .into_iter()
        .map(|(_, _, name)| name.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64) -> Coordinate {
        let mut coord = Coordinate::new(&proconsul_coordinate::Config::default());
        coord.vec[0] = x;
        coord.height = 0.0;
        coord
    }

    #[test]
    fn the_median_of_odd_and_even_counts() {
        let me = at(0.0);
        assert_eq!(median_rtt(&me, &[]), None);
        assert_eq!(
            median_rtt(&me, &[at(0.3), at(0.1), at(0.2)]),
            Some(Duration::from_millis(200))
        );
        assert_eq!(
            median_rtt(&me, &[at(0.1), at(0.2)]),
            Some(Duration::from_millis(150))
        );
    }

    #[test]
    fn local_first_then_nearest_then_unknown() {
        let me = at(0.0);
        let dcs: BTreeMap<String, Vec<Coordinate>> = [
            ("dc1", vec![at(0.0)]),
            ("far", vec![at(0.9), at(0.8), at(1.0)]),
            ("near", vec![at(0.05)]),
            ("blind", vec![]),
            ("also-near", vec![at(0.05)]),
        ]
        .into_iter()
        .map(|(name, coords)| (name.to_string(), coords))
        .collect();
        assert_eq!(
            by_distance("dc1", &me, &dcs),
            ["dc1", "also-near", "near", "far", "blind"]
        );
        assert_eq!(by_distance("alone", &me, &BTreeMap::new()), ["alone"]);
    }
}
