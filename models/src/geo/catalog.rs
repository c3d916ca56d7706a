//! A bundled catalog of cities and edge sites.
//!
//! Coordinates are city centres in decimal degrees (rounded to 4 places;
//! a city's extent dwarfs the rounding). Sites sit in their city.

use super::LatLon;

/// A city users live in or a site can be placed in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct City {
    /// Short lower-case code used in scenario files, e.g. `"nyc"`.
    pub code: &'static str,
    /// Display name.
    pub name: &'static str,
    /// ISO 3166 country code.
    pub country: &'static str,
    /// Latitude in degrees, north positive.
    pub lat_deg: f64,
    /// Longitude in degrees, east positive.
    pub lon_deg: f64,
}

impl City {
    /// The city's position.
    pub fn location(&self) -> LatLon {
        // Every entry of the const table is in range (checked by the unit
        // test `catalog_is_valid`), so no check is needed here.
        LatLon {
            lat_deg: self.lat_deg,
            lon_deg: self.lon_deg,
        }
    }
}

/// An edge site of the reference story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteEntry {
    /// Site tag, e.g. `"ny1"`.
    pub tag: &'static str,
    /// Code of the city the site is in.
    pub city: &'static str,
}

macro_rules! cities {
    ($(($code:literal, $name:literal, $cc:literal, $lat:literal, $lon:literal)),* $(,)?) => {
        /// Every city of the catalog.
        pub const CITIES: &[City] = &[
            $(City { code: $code, name: $name, country: $cc, lat_deg: $lat, lon_deg: $lon }),*
        ];
    };
}

cities![
    ("nyc", "New York", "US", 40.7128, -74.0060),
    ("lax", "Los Angeles", "US", 34.0522, -118.2437),
    ("iad", "Ashburn", "US", 39.0438, -77.4874),
    ("chi", "Chicago", "US", 41.8781, -87.6298),
    ("dfw", "Dallas", "US", 32.7767, -96.7970),
    ("sjc", "San Jose", "US", 37.3382, -121.8863),
    ("sea", "Seattle", "US", 47.6062, -122.3321),
    ("mia", "Miami", "US", 25.7617, -80.1918),
    ("yyz", "Toronto", "CA", 43.6532, -79.3832),
    ("gru", "Sao Paulo", "BR", -23.5505, -46.6333),
    ("ams", "Amsterdam", "NL", 52.3676, 4.9041),
    ("fra", "Frankfurt", "DE", 50.1109, 8.6821),
    ("lon", "London", "GB", 51.5074, -0.1278),
    ("par", "Paris", "FR", 48.8566, 2.3522),
    ("mad", "Madrid", "ES", 40.4168, -3.7038),
    ("jnb", "Johannesburg", "ZA", -26.2041, 28.0473),
    ("dxb", "Dubai", "AE", 25.2048, 55.2708),
    ("bom", "Mumbai", "IN", 19.0760, 72.8777),
    ("blr", "Bangalore", "IN", 12.9716, 77.5946),
    ("sgp", "Singapore", "SG", 1.3521, 103.8198),
    ("hkg", "Hong Kong", "HK", 22.3193, 114.1694),
    ("szx", "Shenzhen", "CN", 22.5431, 114.0579),
    ("can", "Guangzhou", "CN", 23.1291, 113.2644),
    ("hgh", "Hangzhou", "CN", 30.2741, 120.1551),
    ("sha", "Shanghai", "CN", 31.2304, 121.4737),
    ("nkg", "Nanjing", "CN", 32.0603, 118.7969),
    ("pek", "Beijing", "CN", 39.9042, 116.4074),
    ("ctu", "Chengdu", "CN", 30.5728, 104.0668),
    ("ckg", "Chongqing", "CN", 29.4316, 106.9123),
    ("wuh", "Wuhan", "CN", 30.5928, 114.3055),
    ("xiy", "Xi'an", "CN", 34.3416, 108.9398),
    ("tpe", "Taipei", "TW", 25.0330, 121.5654),
    ("sel", "Seoul", "KR", 37.5665, 126.9780),
    ("tyo", "Tokyo", "JP", 35.6762, 139.6503),
    ("syd", "Sydney", "AU", -33.8688, 151.2093),
    ("mel", "Melbourne", "AU", -37.8136, 144.9631),
];

/// The edge sites of the reference story: the nine regional clusters
/// (ny1 ... syd1) and the other tags it mentions (fra1, ash1, sgp1).
pub const SITES: &[SiteEntry] = &[
    SiteEntry {
        tag: "ny1",
        city: "nyc",
    },
    SiteEntry {
        tag: "la1",
        city: "lax",
    },
    SiteEntry {
        tag: "ams1",
        city: "ams",
    },
    SiteEntry {
        tag: "hkg1",
        city: "hkg",
    },
    SiteEntry {
        tag: "szx1",
        city: "szx",
    },
    SiteEntry {
        tag: "hgh1",
        city: "hgh",
    },
    SiteEntry {
        tag: "ctu1",
        city: "ctu",
    },
    SiteEntry {
        tag: "wuh1",
        city: "wuh",
    },
    SiteEntry {
        tag: "syd1",
        city: "syd",
    },
    SiteEntry {
        tag: "fra1",
        city: "fra",
    },
    SiteEntry {
        tag: "ash1",
        city: "iad",
    },
    SiteEntry {
        tag: "sgp1",
        city: "sgp",
    },
];

/// The speed-test cities. The story names eight of its fourteen (Shenzhen,
/// Los Angeles, Chengdu, Hangzhou, Hong Kong, New York, Wuhan, Sydney); the
/// other six here (Beijing, Shanghai, Guangzhou, Singapore, Tokyo,
/// Frankfurt) are an assumption: large cities a China-plus-global speed test
/// usually probes from.
pub const SPEED_TEST_CITIES: &[&str] = &[
    "szx", "lax", "ctu", "hgh", "hkg", "nyc", "wuh", "syd", "pek", "sha", "can", "sgp", "tyo",
    "fra",
];

/// The city with code `code`, if the catalog has it.
pub fn city(code: &str) -> Option<&'static City> {
    CITIES.iter().find(|c| c.code == code)
}

/// The site with tag `tag`, if the catalog has it.
pub fn site(tag: &str) -> Option<&'static SiteEntry> {
    SITES.iter().find(|s| s.tag == tag)
}

/// Codes of every city, for "allowed:" messages.
pub fn city_codes() -> Vec<&'static str> {
    CITIES.iter().map(|c| c.code).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_valid() {
        let mut codes = std::collections::BTreeSet::new();
        for c in CITIES {
            assert!(LatLon::new(c.lat_deg, c.lon_deg).is_ok(), "{}", c.code);
            assert!(codes.insert(c.code), "duplicate city {}", c.code);
        }
        let mut tags = std::collections::BTreeSet::new();
        for s in SITES {
            assert!(city(s.city).is_some(), "site {} in unknown city", s.tag);
            assert!(tags.insert(s.tag), "duplicate site {}", s.tag);
        }
        assert_eq!(SPEED_TEST_CITIES.len(), 14);
        for c in SPEED_TEST_CITIES {
            assert!(city(c).is_some(), "speed-test city {c}");
        }
        assert!(city("bom").is_some(), "Mumbai");
    }

    #[test]
    fn mumbai_to_singapore_is_about_3900_km() {
        let d = city("bom")
            .unwrap()
            .location()
            .distance_km(city("sgp").unwrap().location());
        assert!((d - 3_910.0).abs() < 40.0, "{d}");
    }
}
