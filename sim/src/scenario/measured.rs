//! Measured catchments: which site each client network reached and in how
//! long, as anycast measurement tools give them (Verfploeter's catchment
//! of every /24, RIPE Atlas probes' traceroutes or CHAOS queries with
//! their RTTs), to hold the model's catchment against.
//!
//! ```csv
//! client,population,lat,lon,site,rtt_ms
//! 203.0.113.0/24,nyc,,,ny1,33.8
//! probe-6012,,34.05,-118.25,la1,9.1
//! ```
//!
//! The columns are `client` (a prefix, network or probe: any name, each
//! once), `population` (a population of the estate) and/or `lat` and `lon`
//! (where the client is, decimal degrees; a client without a population
//! belongs to the nearest one), `site` (the site tag it reached) and
//! `rtt_ms` (the measured round trip, a bare number of milliseconds).
//! Other columns (`asn`, `source`, `note`) are not read; a line starting
//! with `#` is a comment.

use std::collections::BTreeMap;
use std::path::Path;

use cutover_models::geo::LatLon;

use super::source::InputError;
use super::trace::Doc;

/// One measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The client network, prefix or probe.
    pub client: String,
    /// The population it belongs to (the estate's name).
    pub population: String,
    /// Where the client is, if the file says.
    pub location: Option<LatLon>,
    /// The site it reached.
    pub site: String,
    /// The measured round trip, ms.
    pub rtt_ms: f64,
}

/// What the estate knows, to check the rows against.
pub struct Known<'a> {
    /// Population names and locations.
    pub populations: &'a [(String, LatLon)],
    /// Site tags.
    pub sites: &'a [String],
}

const ALLOWED: &str = "columns `client`, `population` and/or `lat` and `lon`, `site`, `rtt_ms`, \
     and optionally `asn`, `source`, `note`";

/// Where the columns are.
struct Columns {
    client: usize,
    population: Option<usize>,
    lat_lon: Option<(usize, usize)>,
    site: usize,
    rtt: usize,
}

fn columns(doc: &Doc, headers: &csv::StringRecord) -> Result<Columns, InputError> {
    let names = [
        "client",
        "population",
        "lat",
        "lon",
        "site",
        "rtt_ms",
        "asn",
        "source",
        "note",
    ];
    for (c, h) in headers.iter().enumerate() {
        if !names.contains(&h) {
            return Err(doc.error(
                1,
                Some(c),
                "",
                format!("unknown column `{h}`; allowed: {ALLOWED}"),
            ));
        }
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            doc.error(
                1,
                None,
                "",
                format!("the header has no `{name}` column; allowed: {ALLOWED}"),
            )
        })
    };
    let lat_lon = match (col("lat"), col("lon")) {
        (Some(a), Some(b)) => Some((a, b)),
        (None, None) => None,
        _ => return Err(doc.error(1, None, "", "give both `lat` and `lon`, or neither")),
    };
    let population = col("population");
    if population.is_none() && lat_lon.is_none() {
        return Err(doc.error(
            1,
            None,
            "",
            format!("the header has no `population` nor `lat` and `lon`; allowed: {ALLOWED}"),
        ));
    }
    Ok(Columns {
        client: need("client")?,
        population,
        lat_lon,
        site: need("site")?,
        rtt: need("rtt_ms")?,
    })
}

/// Reads the measurements at `path` (text `text`), checked against
/// `known` when given.
pub fn parse(
    path: &Path,
    text: &str,
    known: Option<&Known>,
) -> Result<Vec<Measurement>, InputError> {
    let doc = Doc { path, text };
    let (mut reader, headers) = doc.reader(Some(b'#'))?;
    let cols = columns(&doc, &headers)?;
    let mut out = Vec::new();
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(1, |p| p.line() as usize);
            doc.error(line, None, "", e.to_string())
        })?;
        let line = record.position().map_or(1, |p| p.line() as usize);
        let m = row(&doc, line, &cols, &record, known)?;
        if let Some(k) = first.insert(m.client.clone(), line) {
            return Err(doc.error(
                line,
                Some(cols.client),
                "client",
                format!(
                    "a second row for `{}` (the first is line {k}); allowed: each client once",
                    m.client
                ),
            ));
        }
        out.push(m);
    }
    if out.is_empty() {
        return Err(doc.error(1, None, "", "no rows; allowed: a row per client"));
    }
    Ok(out)
}

/// One row, checked.
fn row(
    doc: &Doc,
    line: usize,
    cols: &Columns,
    record: &csv::StringRecord,
    known: Option<&Known>,
) -> Result<Measurement, InputError> {
    let field = |c: usize| record.get(c).unwrap_or("");
    let client = field(cols.client);
    if client.is_empty() {
        return Err(doc.error(
            line,
            Some(cols.client),
            "client",
            "empty; allowed: a prefix, network or probe name",
        ));
    }
    let location = cols
        .lat_lon
        .filter(|&(a, b)| !field(a).is_empty() || !field(b).is_empty())
        .map(|(a, b)| {
            let (lat, lon) = (field(a).parse::<f64>(), field(b).parse::<f64>());
            match (lat, lon) {
                (Ok(lat), Ok(lon)) => LatLon::new(lat, lon).map_err(|e| e.to_string()),
                _ => Err("not numbers".to_string()),
            }
            .map_err(|e| {
                doc.error(
                    line,
                    Some(a),
                    "lat",
                    format!(
                        "{e}; allowed: decimal degrees, latitude -90 to 90, longitude -180 to 180"
                    ),
                )
            })
        })
        .transpose()?;
    let population = population(
        doc,
        line,
        cols,
        field(cols.population.unwrap_or(usize::MAX)),
        location,
        known,
    )?;
    let site = field(cols.site);
    if let Some(k) = known.filter(|k| !k.sites.iter().any(|s| s == site)) {
        return Err(doc.error(
            line,
            Some(cols.site),
            "site",
            format!(
                "`{site}` is not a site of the estate; allowed: {}",
                k.sites.join(", ")
            ),
        ));
    }
    let text = field(cols.rtt);
    let rtt_ms = text
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && (0.0..=60_000.0).contains(v))
        .ok_or_else(|| {
            doc.error(
                line,
                Some(cols.rtt),
                "rtt_ms",
                format!(
                    "`{text}`; allowed: a bare number of milliseconds from 0 to 60000, e.g. 33.8"
                ),
            )
        })?;
    Ok(Measurement {
        client: client.to_string(),
        population,
        location,
        site: site.to_string(),
        rtt_ms,
    })
}

/// The row's population: as written, or the nearest to its location.
fn population(
    doc: &Doc,
    line: usize,
    cols: &Columns,
    written: &str,
    location: Option<LatLon>,
    known: Option<&Known>,
) -> Result<String, InputError> {
    let Some(k) = known else {
        return Ok(written.to_string());
    };
    if !written.is_empty() {
        if !k.populations.iter().any(|(n, _)| n == written) {
            let names: Vec<&str> = k.populations.iter().map(|(n, _)| n.as_str()).collect();
            return Err(doc.error(
                line,
                cols.population,
                "population",
                format!(
                    "`{written}` is not a population of the estate; allowed: {}",
                    names.join(", ")
                ),
            ));
        }
        return Ok(written.to_string());
    }
    let Some(at) = location else {
        return Err(doc.error(
            line,
            cols.population,
            "population",
            "empty, and no `lat` and `lon`; allowed: a population, or where the client is",
        ));
    };
    let nearest = k
        .populations
        .iter()
        .map(|(n, l)| (at.distance_km(*l), n))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    Ok(nearest.map(|(_, n)| n.clone()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_known(text: &str) -> Result<Vec<Measurement>, String> {
        let pops = vec![
            ("nyc".to_string(), LatLon::new(40.7, -74.0).unwrap()),
            ("lax".to_string(), LatLon::new(34.1, -118.2).unwrap()),
        ];
        let sites = vec!["ny1".to_string(), "la1".to_string()];
        let known = Known {
            populations: &pops,
            sites: &sites,
        };
        parse(Path::new("m.csv"), text, Some(&known)).map_err(|e| e.to_string())
    }

    #[test]
    fn rows_by_population_or_by_location() {
        let m = parse_known(
            "client,population,lat,lon,site,rtt_ms\n203.0.113.0/24,nyc,,,ny1,33.8\nprobe-1,,33.9,-118.4,la1,12\n",
        )
        .unwrap();
        assert_eq!(m[0].population, "nyc");
        assert_eq!(m[0].location, None);
        assert_eq!(m[1].population, "lax");
        assert_eq!(m[1].rtt_ms, 12.0);
    }

    #[test]
    fn each_class_of_bad_row_is_located() {
        let cases = [
            (
                "client,population,rtt_ms\n",
                "m.csv:1:1: the header has no `site` column",
            ),
            (
                "client,city,site,rtt_ms\n",
                "m.csv:1:8: unknown column `city`",
            ),
            (
                "client,population,site,rtt_ms\na,nyc,ny1,33ms\n",
                "m.csv:2:11: field `rtt_ms`: `33ms`; allowed: a bare number of milliseconds",
            ),
            (
                "client,population,site,rtt_ms\na,tokyo,ny1,3\n",
                "m.csv:2:3: field `population`: `tokyo` is not a population",
            ),
            (
                "client,population,site,rtt_ms\na,nyc,fra1,3\n",
                "m.csv:2:7: field `site`: `fra1` is not a site of the estate",
            ),
            (
                "client,population,site,rtt_ms\na,nyc,ny1,3\nb,nyc,ny1,3\na,lax,la1,3\n",
                "m.csv:4:1: field `client`: a second row for `a` (the first is line 2)",
            ),
            (
                "client,lat,lon,site,rtt_ms\na,95,0,ny1,3\n",
                "m.csv:2:3: field `lat`",
            ),
        ];
        for (text, want) in cases {
            let err = parse_known(text).unwrap_err();
            assert!(err.starts_with(want), "{err}\nwanted: {want}");
        }
    }
}
