//! `/v1/coordinate/*`'s JSON: a node's network coordinate in one segment, and the
//! coordinates of a datacenter's servers. The coordinate itself is
//! [`proconsul_coordinate::Coordinate`] (serf's `coordinate.Coordinate`), re-exported
//! here so that callers need only this crate.

use serde::{Deserialize, Serialize};

pub use proconsul_coordinate::Coordinate;

/// One node's coordinate in one network segment: `structs.Coordinate` (the `api`
/// package's `CoordinateEntry`), also the body of `PUT /v1/coordinate/update`.
/// `Partition` is omitted when empty, as Consul CE writes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CoordinateEntry {
    pub node: String,
    pub segment: String,
    pub partition: String,
    /// `null` only in a request that left it out (refused as invalid).
    pub coord: Option<Coordinate>,
}

/// The coordinates of one datacenter's servers in one network area:
/// `structs.DatacenterMap` (the `api` package's `CoordinateDatacenterMap`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CoordinateDatacenterMap {
    pub datacenter: String,
    /// `wan` for the WAN pool, the only area of Consul CE.
    #[serde(rename = "AreaID")]
    pub area_id: String,
    pub coordinates: Vec<CoordinateEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_lenient;
    use crate::go_json::{self, Shape};

    #[test]
    fn an_entry_is_written_with_the_api_package_s_keys() {
        let entry = CoordinateEntry {
            node: "n1".into(),
            coord: Some(Coordinate {
                vec: vec![0.0; 2],
                error: 1.5,
                adjustment: 0.0,
                height: 1.0e-5,
            }),
            ..CoordinateEntry::default()
        };
        let json: serde_json::Value =
            serde_json::from_slice(&go_json::to_vec(&entry, Shape::Catalog, false).unwrap())
                .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"Node": "n1", "Segment": "",
                "Coord": {"Vec": [0.0, 0.0], "Error": 1.5, "Adjustment": 0.0, "Height": 1.0e-5}})
        );
        let map = CoordinateDatacenterMap {
            datacenter: "dc1".into(),
            area_id: "wan".into(),
            coordinates: vec![entry],
        };
        let json: serde_json::Value =
            serde_json::from_slice(&go_json::to_vec(&map, Shape::Catalog, false).unwrap()).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["AreaID", "Coordinates", "Datacenter"]);
    }

    #[test]
    fn an_update_body_decodes_as_go_decodes_it() {
        let body = serde_json::json!({"node": "n1", "Segment": null,
            "coord": {"vec": [1, 2], "error": 0.5, "HEIGHT": 0.25, "unknown": true}});
        let entry: CoordinateEntry = decode_lenient(body).unwrap();
        assert_eq!(entry.node, "n1");
        let coord = entry.coord.unwrap();
        assert_eq!(coord.vec, [1.0, 2.0]);
        assert_eq!(coord.error, 0.5);
        assert_eq!(coord.height, 0.25);
        let missing: CoordinateEntry = decode_lenient(serde_json::json!({"Node": "n1"})).unwrap();
        assert_eq!(missing.coord, None);
        assert!(
            decode_lenient::<CoordinateEntry>(serde_json::json!({"Coord": {"Vec": "x"}})).is_err()
        );
    }
}
