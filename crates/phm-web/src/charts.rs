//! Vega-Lite specifications of the app's charts. Each is data the page embeds (never script)
//! beside a table of the same figures; `static/charts.js` draws it with the pinned Vega.
//!
//! Colours are colour-blind safe and never the only signal: better is NHS blue with an upward
//! triangle, worse is orange with a downward triangle, similar is grey with a circle, and
//! higher or lower without a judgement is purple with a diamond; the tables say it in words.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::data::{Catalogue, PopulationRow, TrendRow};
use crate::{Error, Result};

/// Comparison categories with their colour and shape.
const COMPARISON: [(&str, &str, &str); 6] = [
    ("better", "#005eb8", "triangle-up"),
    ("similar", "#aeb7bd", "circle"),
    ("worse", "#ed8b00", "triangle-down"),
    ("higher", "#330072", "diamond"),
    ("lower", "#330072", "diamond"),
    ("not compared", "#ffffff", "square"),
];

fn comparison_scales() -> (Value, Value) {
    let domain: Vec<&str> = COMPARISON.iter().map(|c| c.0).collect();
    let colours: Vec<&str> = COMPARISON.iter().map(|c| c.1).collect();
    let shapes: Vec<&str> = COMPARISON.iter().map(|c| c.2).collect();
    (json!({"domain": domain, "range": colours}), json!({"domain": domain, "range": shapes}))
}

/// The comparison word of a profile row's text (`better`, `similar`, …), or `not compared`.
pub fn comparison_word(text: Option<&str>) -> &'static str {
    match text {
        Some(t) if t.starts_with("better") => "better",
        Some(t) if t.starts_with("worse") => "worse",
        Some(t) if t.starts_with("similar") => "similar",
        Some(t) if t.starts_with("higher") => "higher",
        Some(t) if t.starts_with("lower") => "lower",
        _ => "not compared",
    }
}

fn base(description: &str) -> Value {
    json!({
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": description,
        "config": {"font": "Arial, sans-serif", "axis": {"labelFontSize": 12, "titleFontSize": 12}, "legend": {"labelFontSize": 12}, "view": {"stroke": null}},
    })
}

/// One row of a spine chart.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SpineRow {
    /// Indicator title.
    pub title: String,
    /// The area's value, scaled to −1 (worst end) … 0 (benchmark) … 1 (best end).
    pub x: Option<f64>,
    /// Worst and best of the peers, scaled the same way.
    pub worst: f64,
    /// Best of the peers.
    pub best: f64,
    /// 25th and 75th percentiles of the peers.
    pub q1: f64,
    /// 75th percentile.
    pub q3: f64,
    /// England, scaled, where known.
    pub england: Option<f64>,
    /// Comparison with the benchmark.
    pub compared: String,
    /// The value as shown.
    pub label: String,
}

/// Scales a value for a spine chart: the benchmark at 0 and the furthest peer at ±1, with
/// better to the right (higher values when higher is better, lower when lower is better; as
/// written when there is no judgement).
pub fn spine_scale(value: f64, benchmark: f64, peers: &[f64], polarity: &str) -> f64 {
    let spread = peers.iter().chain([value].iter()).map(|p| (p - benchmark).abs()).fold(0.0_f64, f64::max);
    if spread == 0.0 {
        return 0.0;
    }
    let x = (value - benchmark) / spread;
    if polarity == "lower_is_better" { -x } else { x }
}

/// The `p` quantile (0–1) of sorted values, by linear interpolation.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// A Fingertips-style spine chart.
pub fn spine(rows: &[SpineRow], benchmark: &str) -> Value {
    let (colour, shape) = comparison_scales();
    let height = 26 * rows.len().max(1);
    let mut spec =
        base(&format!("Spine chart: each indicator's value against {benchmark} (centre line) and the range of peers"));
    let order: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
    let y = json!({"field": "title", "type": "nominal", "sort": order, "title": null, "axis": {"labelLimit": 320}});
    spec["width"] = json!(360);
    spec["height"] = json!(height);
    spec["data"] = json!({"values": rows});
    spec["layer"] = json!([
        {"mark": {"type": "rule", "color": "#d8dde0", "strokeWidth": 12}, "encoding": {"y": y, "x": {"field": "worst", "type": "quantitative", "scale": {"domain": [-1.05, 1.05]}, "axis": null}, "x2": {"field": "best"}}},
        {"mark": {"type": "rule", "color": "#aeb7bd", "strokeWidth": 12}, "encoding": {"y": y, "x": {"field": "q1", "type": "quantitative"}, "x2": {"field": "q3"}}},
        {"mark": {"type": "rule", "color": "#212b32", "strokeWidth": 1.5}, "encoding": {"x": {"datum": 0, "type": "quantitative"}}},
        {"mark": {"type": "point", "shape": "diamond", "filled": false, "color": "#212b32", "size": 60}, "encoding": {"y": y, "x": {"field": "england", "type": "quantitative"}}},
        {"mark": {"type": "point", "filled": true, "size": 140, "stroke": "#212b32", "strokeWidth": 1}, "encoding": {
            "y": y,
            "x": {"field": "x", "type": "quantitative"},
            "color": {"field": "compared", "type": "nominal", "scale": colour, "title": format!("Compared with {benchmark}")},
            "shape": {"field": "compared", "type": "nominal", "scale": shape, "title": format!("Compared with {benchmark}")},
            "tooltip": [{"field": "title", "title": "Indicator"}, {"field": "label", "title": "Value"}, {"field": "compared", "title": "Compared"}]
        }}
    ]);
    spec["title"] = json!({"text": format!("Worse ← {benchmark} → better"), "fontSize": 12, "anchor": "middle", "fontWeight": "normal"});
    spec
}

/// An SPC (XmR) chart: the values, the mean and the process limits, special causes marked.
pub fn trend(points: &[&TrendRow], title: &str, unit: &str) -> Value {
    let values: Vec<Value> = points
        .iter()
        .map(|p| {
            let cause = special_kind(p);
            json!({"period": p.period.to_string(), "value": p.value, "mean": p.mean, "lower": p.lower_process_limit, "upper": p.upper_process_limit, "cause": cause})
        })
        .collect();
    let mut spec = base(&format!("Statistical process control chart of {title}"));
    spec["width"] = json!("container");
    spec["height"] = json!(220);
    spec["data"] = json!({"values": values});
    let x = json!({"field": "period", "type": "temporal", "title": null, "axis": {"format": "%b %Y"}});
    spec["layer"] = json!([
        {"mark": {"type": "line", "color": "#aeb7bd", "strokeDash": [4, 4]}, "encoding": {"x": x, "y": {"field": "upper", "type": "quantitative"}}},
        {"mark": {"type": "line", "color": "#aeb7bd", "strokeDash": [4, 4]}, "encoding": {"x": x, "y": {"field": "lower", "type": "quantitative"}}},
        {"mark": {"type": "line", "color": "#212b32"}, "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative"}}},
        {"mark": {"type": "line", "color": "#4c6272", "point": false}, "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "title": unit, "scale": {"zero": false}, "axis": {"format": ",.1f"}}}},
        {"mark": {"type": "point", "filled": true, "size": 50}, "encoding": {
            "x": x, "y": {"field": "value", "type": "quantitative"},
            "color": {"field": "cause", "type": "nominal", "title": "Variation", "scale": {"domain": ["common cause", "improving", "concerning", "neither"], "range": ["#4c6272", "#005eb8", "#ed8b00", "#330072"]}},
            "shape": {"field": "cause", "type": "nominal", "title": "Variation", "scale": {"domain": ["common cause", "improving", "concerning", "neither"], "range": ["circle", "triangle-up", "triangle-down", "diamond"]}},
            "tooltip": [{"field": "period", "type": "temporal", "format": "%b %Y"}, {"field": "value", "format": ".1f"}, {"field": "cause"}]
        }}
    ]);
    spec
}

fn special_kind(p: &TrendRow) -> &'static str {
    match p.variation.as_deref() {
        Some("improvement") => "improving",
        Some("concern") => "concerning",
        Some("neither") => "neither",
        _ => "common cause",
    }
}

/// A sparkline: the trend alone, no axes.
pub fn sparkline(points: &[&TrendRow]) -> Value {
    let values: Vec<Value> = points.iter().map(|p| json!({"period": p.period.to_string(), "value": p.value})).collect();
    json!({
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": "Trend sparkline",
        "width": 120, "height": 30, "padding": 2,
        "config": {"view": {"stroke": null}},
        "data": {"values": values},
        "mark": {"type": "line", "color": "#005eb8", "strokeWidth": 1.5},
        "encoding": {
            "x": {"field": "period", "type": "temporal", "axis": null},
            "y": {"field": "value", "type": "quantitative", "axis": null, "scale": {"zero": false}}
        }
    })
}

/// One bar of a bar chart with confidence limits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Bar {
    /// Category label.
    pub category: String,
    /// Value.
    pub value: Option<f64>,
    /// Lower 95% limit.
    pub lower: Option<f64>,
    /// Upper 95% limit.
    pub upper: Option<f64>,
    /// Comparison word, for colour and shape.
    pub compared: String,
}

/// Bars with 95% confidence limits and an optional benchmark line.
pub fn bars(bars: &[Bar], unit: &str, benchmark: Option<(&str, f64)>, title: &str) -> Option<Value> {
    if !bars.iter().any(|b| b.value.is_some()) {
        return None;
    }
    let judged = bars.iter().any(|b| b.compared != "not compared");
    let (colour, _) = comparison_scales();
    let order: Vec<&str> = bars.iter().map(|b| b.category.as_str()).collect();
    let y = json!({"field": "category", "type": "nominal", "sort": order, "title": null, "axis": {"labelLimit": 260}});
    let mut spec = base(&format!("Bar chart of {title}, with 95% confidence limits"));
    spec["width"] = json!(380);
    spec["height"] = json!(22 * bars.len().max(1));
    spec["data"] = json!({"values": bars});
    let mut layers = vec![
        {
            let mut bar = json!({"mark": {"type": "bar", "stroke": "#212b32", "strokeWidth": 0.5, "color": "#41b6e6"}, "encoding": {
                "y": y, "x": {"field": "value", "type": "quantitative", "title": unit, "axis": {"format": ",.1f"}},
                "tooltip": [{"field": "category"}, {"field": "value", "format": ",.1f"}, {"field": "lower", "format": ",.1f"}, {"field": "upper", "format": ",.1f"}]
            }});
            if judged {
                bar["encoding"]["color"] =
                    json!({"field": "compared", "type": "nominal", "scale": colour, "title": "Compared with the ICS"});
            }
            bar
        },
        json!({"mark": {"type": "rule", "color": "#212b32"}, "encoding": {"y": y, "x": {"field": "lower", "type": "quantitative"}, "x2": {"field": "upper"}}}),
    ];
    if let Some((name, v)) = benchmark {
        layers.push(json!({"mark": {"type": "rule", "color": "#212b32", "strokeDash": [6, 3], "strokeWidth": 2}, "encoding": {"x": {"datum": v, "type": "quantitative"}}}));
        layers.push(json!({"mark": {"type": "text", "align": "left", "dx": 4, "dy": -6, "fontSize": 11}, "encoding": {"x": {"datum": v, "type": "quantitative"}, "y": {"value": 0}, "text": {"value": name}}}));
    }
    spec["layer"] = json!(layers);
    Some(spec)
}

/// A population pyramid (male to the left).
pub fn pyramid(rows: &[&PopulationRow], bands: &[String]) -> Value {
    let values: Vec<Value> = rows
        .iter()
        .filter(|r| bands.contains(&r.age_band))
        .map(|r| {
            let n = r.count.map(|c| c as f64);
            let signed = if r.sex.eq_ignore_ascii_case("male") { n.map(|v| -v) } else { n };
            json!({"band": r.age_band, "sex": r.sex, "count": signed, "people": r.count})
        })
        .collect();
    let mut order = bands.to_vec();
    order.reverse();
    let mut spec =
        base("Population pyramid: registered people by age band, males to the left and females to the right");
    spec["width"] = json!(420);
    spec["height"] = json!(16 * bands.len().max(1));
    spec["data"] = json!({"values": values});
    spec["mark"] = json!({"type": "bar"});
    spec["encoding"] = json!({
        "y": {"field": "band", "type": "ordinal", "sort": order, "title": "Age"},
        "x": {"field": "count", "type": "quantitative", "title": "People", "axis": {"labelExpr": "abs(datum.value)"}},
        "color": {"field": "sex", "type": "nominal", "title": "Sex", "scale": {"domain": ["female", "male"], "range": ["#005eb8", "#ed8b00"]}},
        "tooltip": [{"field": "band", "title": "Age"}, {"field": "sex"}, {"field": "people", "title": "People"}]
    });
    spec
}

/// Hex positions of areas: each place a cluster, its neighbourhoods spiralling around the
/// cluster's centre, the clusters laid out roughly as the places lie (north to south:
/// Bedford, Milton Keynes to the west, Central Bedfordshire in the middle, Luton to the south).
pub fn hex_layout(catalogue: &Catalogue) -> HashMap<String, (f64, f64)> {
    const CENTRES: [(&str, (f64, f64)); 4] = [
        ("Bedford", (6.0, 0.0)),
        ("Milton Keynes", (0.0, 3.0)),
        ("Central Bedfordshire", (6.0, 5.0)),
        ("Luton", (3.0, 9.0)),
    ];
    // Axial hex offsets: the centre, then ring 1, then ring 2.
    const RING: [(i32, i32); 19] = [
        (0, 0),
        (1, 0),
        (1, -1),
        (0, -1),
        (-1, 0),
        (-1, 1),
        (0, 1),
        (2, 0),
        (2, -1),
        (2, -2),
        (1, -2),
        (0, -2),
        (-1, -1),
        (-2, 0),
        (-2, 1),
        (-2, 2),
        (-1, 2),
        (0, 2),
        (1, 1),
    ];
    let mut out = HashMap::new();
    for (i, place) in catalogue.areas_of("place").enumerate() {
        let centre = CENTRES.iter().find(|c| place.name.starts_with(c.0)).map_or((i as f64 * 5.0, 12.0), |c| c.1);
        for (k, child) in place.children.iter().enumerate() {
            let (q, r) = RING[k % RING.len()];
            let extra = (k / RING.len()) as f64 * 5.0;
            let x = centre.0 + f64::from(q) + f64::from(r) / 2.0 + extra;
            let y = centre.1 + f64::from(r) * 0.866;
            out.insert(child.clone(), (x, y));
        }
    }
    out
}

/// One area on a map.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MapArea {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Value.
    pub value: Option<f64>,
    /// Comparison with the ICS.
    pub compared: String,
}

/// A map of neighbourhoods coloured by comparison with the ICS: the built-in hex map, or the
/// supplied boundaries.
pub fn map(areas: &[MapArea], catalogue: &Catalogue, boundaries: Option<&Value>, title: &str) -> Value {
    let (colour, _) = comparison_scales();
    let tooltip = json!([{"field": "name", "title": "Neighbourhood"}, {"field": "value", "format": ".1f", "title": "Value"}, {"field": "compared", "title": "Compared with the ICS"}]);
    if let Some(geo) = boundaries {
        let by_code: HashMap<&str, &MapArea> = areas.iter().map(|a| (a.code.as_str(), a)).collect();
        let features: Vec<Value> = geo["features"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let code = f["properties"]["code"].as_str()?;
                let a = by_code.get(code)?;
                let mut f = f.clone();
                f["properties"]["name"] = json!(a.name);
                f["properties"]["value"] = json!(a.value);
                f["properties"]["compared"] = json!(a.compared);
                Some(f)
            })
            .collect();
        let mut spec = base(&format!("Map of {title} by neighbourhood"));
        spec["width"] = json!(420);
        spec["height"] = json!(420);
        spec["data"] = json!({"values": {"type": "FeatureCollection", "features": features}, "format": {"type": "json", "property": "features"}});
        spec["projection"] = json!({"type": "mercator"});
        spec["mark"] = json!({"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 1});
        spec["encoding"] = json!({
            "color": {"field": "properties.compared", "type": "nominal", "scale": colour, "title": "Compared with the ICS"},
            "tooltip": [{"field": "properties.name", "title": "Neighbourhood"}, {"field": "properties.value", "format": ".1f"}, {"field": "properties.compared"}]
        });
        return spec;
    }
    let layout = hex_layout(catalogue);
    let values: Vec<Value> = areas
        .iter()
        .filter_map(|a| {
            let (x, y) = layout.get(&a.code)?;
            let short: String =
                a.name.replace(" (synthetic)", "").split_whitespace().last().unwrap_or("").chars().take(4).collect();
            Some(json!({"x": x, "y": y, "name": a.name, "short": short, "value": a.value, "compared": a.compared}))
        })
        .collect();
    // Each place's name above its cluster.
    let mut labels: Vec<Value> = Vec::new();
    for place in catalogue.areas_of("place") {
        let points: Vec<(f64, f64)> = place.children.iter().filter_map(|c| layout.get(c).copied()).collect();
        if points.is_empty() || !areas.iter().any(|a| place.children.contains(&a.code)) {
            continue;
        }
        let x = points.iter().map(|p| p.0).sum::<f64>() / points.len() as f64;
        let y = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min) - 1.1;
        labels.push(json!({"x": x, "y": y, "place": place.name}));
    }
    let mut spec = base(&format!(
        "Hex map of {title} by neighbourhood, each hexagon one neighbourhood, coloured by comparison with the ICS"
    ));
    spec["width"] = json!(400);
    spec["height"] = json!(400);
    spec["data"] = json!({"values": values});
    // Zoom to the hexagons shown (a place's cluster, or all of them), keeping hexagons regular.
    let xs: Vec<f64> = values.iter().filter_map(|v| v["x"].as_f64()).collect();
    let ys: Vec<f64> = values.iter().filter_map(|v| v["y"].as_f64()).collect();
    let (x0, x1) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min) - 1.5,
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max) + 1.5,
    );
    let (y0, y1) = (
        ys.iter().copied().fold(f64::INFINITY, f64::min) - 2.2,
        ys.iter().copied().fold(f64::NEG_INFINITY, f64::max) + 1.2,
    );
    let span = (x1 - x0).max(y1 - y0).max(4.0);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let hex_size = (1500.0 * (12.5 / span).powi(2)).min(6000.0);
    let x = json!({"field": "x", "type": "quantitative", "axis": null, "scale": {"domain": [cx - span / 2.0, cx + span / 2.0]}});
    let y = json!({"field": "y", "type": "quantitative", "axis": null, "scale": {"domain": [cy - span / 2.0, cy + span / 2.0], "reverse": true}});
    spec["layer"] = json!([
        {"mark": {"type": "point", "shape": "M0,-1L0.866,-0.5L0.866,0.5L0,1L-0.866,0.5L-0.866,-0.5Z", "filled": true, "size": hex_size, "stroke": "#4c6272", "strokeWidth": 1.5},
         "encoding": {"x": x, "y": y, "color": {"field": "compared", "type": "nominal", "scale": colour, "title": "Compared with the ICS"}, "tooltip": tooltip}},
        {"mark": {"type": "text", "fontSize": 9, "color": "#212b32"}, "encoding": {"x": x, "y": y, "text": {"field": "short"}}},
        {"data": {"values": labels}, "mark": {"type": "text", "fontSize": 12, "fontWeight": "bold", "color": "#212b32"}, "encoding": {"x": x, "y": y, "text": {"field": "place"}}}
    ]);
    spec
}

/// Life expectancy by IMD decile, one series per sex.
pub fn le_gap(points: &[(String, u8, Option<f64>)]) -> Option<Value> {
    if !points.iter().any(|p| p.2.is_some()) {
        return None;
    }
    let values: Vec<Value> = points.iter().map(|(s, d, v)| json!({"series": s, "decile": d, "value": v})).collect();
    let mut spec =
        base("Life expectancy at birth by IMD decile, from the most deprived (1) to the least deprived (10)");
    spec["width"] = json!(420);
    spec["height"] = json!(240);
    spec["data"] = json!({"values": values});
    spec["mark"] = json!({"type": "line", "point": {"filled": true, "size": 60}});
    spec["encoding"] = json!({
        "x": {"field": "decile", "type": "ordinal", "title": "IMD decile (1 = most deprived)"},
        "y": {"field": "value", "type": "quantitative", "title": "Years", "scale": {"zero": false}},
        "color": {"field": "series", "type": "nominal", "title": null, "scale": {"range": ["#005eb8", "#ed8b00"]}},
        "shape": {"field": "series", "type": "nominal", "title": null},
        "tooltip": [{"field": "series"}, {"field": "decile"}, {"field": "value", "format": ".1f"}]
    });
    Some(spec)
}

/// Reads a GeoJSON FeatureCollection whose features carry a `code` property naming a
/// neighbourhood.
///
/// # Errors
/// The file is unreadable, is not a FeatureCollection, or no feature's `code` is a
/// neighbourhood the profiles know.
pub fn read_boundaries(path: &Path, catalogue: &Catalogue) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let geo: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Load(format!("`{}` line {}: not JSON: {e}", path.display(), e.line())))?;
    if geo["type"] != "FeatureCollection" {
        return Err(Error::Load(format!(
            "`{}`: expected a GeoJSON FeatureCollection, found type {}",
            path.display(),
            geo["type"]
        )));
    }
    let features = geo["features"].as_array().map_or(0, Vec::len);
    let known = geo["features"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["properties"]["code"].as_str().is_some_and(|c| catalogue.area(c).is_some()))
        .count();
    if known == 0 {
        return Err(Error::Load(format!(
            "`{}`: none of its {features} features has a `code` property naming a neighbourhood of the profiles (e.g. `{}`)",
            path.display(),
            catalogue.areas_of("neighbourhood").next().map_or("", |a| a.code.as_str())
        )));
    }
    Ok(geo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spine_puts_the_benchmark_at_zero_and_better_to_the_right() {
        let peers = [70.0, 80.0, 90.0];
        assert_eq!(spine_scale(80.0, 80.0, &peers, "higher_is_better"), 0.0);
        assert_eq!(spine_scale(90.0, 80.0, &peers, "higher_is_better"), 1.0);
        assert_eq!(spine_scale(90.0, 80.0, &peers, "lower_is_better"), -1.0);
        assert_eq!(spine_scale(75.0, 80.0, &peers, "higher_is_better"), -0.5);
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.0), 1.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 1.0), 4.0);
    }

    #[test]
    fn comparison_words_come_from_the_profile_text() {
        assert_eq!(comparison_word(Some("better")), "better");
        assert_eq!(comparison_word(Some("not compared: no England value")), "not compared");
        assert_eq!(comparison_word(None), "not compared");
    }
}
