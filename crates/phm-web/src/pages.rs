//! The server-rendered pages. Each handler gathers figures from the release the visitor may
//! see, builds the charts' specs and renders a template; every chart has a table.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use phm_model::Method;
use phm_profiles::ProfileRow;
use serde_json::{Value, json};

use crate::auth::Visitor;
use crate::charts::{self, Bar, MapArea, SpineRow, comparison_word};
use crate::data::{Area, IndicatorInfo, Release};
use crate::{App, Error, Result};

/// An error page: the status, a heading and what went wrong.
pub struct PageError {
    app: Arc<App>,
    visitor: Visitor,
    error: Error,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.error.status();
        let heading = match status {
            StatusCode::BAD_REQUEST => "There is a problem with the address",
            StatusCode::NOT_FOUND => "Page not found",
            StatusCode::FORBIDDEN => "You need to sign in",
            _ => "Sorry, there is a problem with the service",
        };
        let message = if status.is_server_error() { "Try again later.".to_owned() } else { self.error.to_string() };
        if status.is_server_error() {
            eprintln!("error: {}", self.error);
        }
        let ctx = json!({"heading": heading, "message": message});
        match render(&self.app, &self.visitor, "error.html", heading, "", ctx) {
            Ok(html) => (status, html).into_response(),
            Err(_) => (status, message).into_response(),
        }
    }
}

type PageResult = std::result::Result<Html<String>, PageError>;

fn fail(app: &Arc<App>, visitor: &Visitor, error: Error) -> PageError {
    PageError { app: app.clone(), visitor: visitor.clone(), error }
}

const NAV: [(&str, &str, &str); 5] = [
    ("overview", "/", "Overview"),
    ("places", "/areas/E54000024", "Places"),
    ("indicators", "/indicators", "Indicators"),
    ("inequalities", "/inequalities", "Inequalities"),
    ("quality", "/data-quality", "Data quality"),
];

/// Renders `template` inside the layout.
pub(crate) fn render(
    app: &App,
    visitor: &Visitor,
    template: &str,
    title: &str,
    current: &str,
    mut ctx: Value,
) -> Result<Html<String>> {
    let release = release(app, visitor);
    let nav: Vec<Value> = NAV
        .iter()
        .map(|(id, href, label)| {
            let href =
                if *id == "places" { format!("/areas/{}", app.catalogue.ics().code) } else { (*href).to_owned() };
            json!({"href": href, "label": label, "current": *id == current})
        })
        .collect();
    ctx["title"] = json!(title);
    ctx["nav"] = json!(nav);
    ctx["user"] = visitor.template_value();
    ctx["policy_name"] = json!(release.policy.name());
    ctx["policy_summary"] = json!(release.policy.summary());
    if ctx.get("breadcrumbs").is_none() {
        ctx["breadcrumbs"] = json!(null);
    }
    app.templates.render(template, &ctx).map(Html)
}

/// The release a visitor may see.
pub(crate) fn release<'a>(app: &'a App, visitor: &Visitor) -> &'a Release {
    app.catalogue.release_for(visitor.analyst())
}

/// Rejects query parameters a page, endpoint or download does not take, naming them.
pub(crate) fn only(query: &HashMap<String, String>, known: &[&str]) -> Result<()> {
    let mut unknown: Vec<&str> = query.keys().map(String::as_str).filter(|k| !known.contains(k)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort_unstable();
    Err(Error::BadRequest(format!(
        "unknown query parameter{} {}: this address takes {}",
        if unknown.len() == 1 { "" } else { "s" },
        unknown.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
        if known.is_empty() {
            "none".to_owned()
        } else {
            known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        }
    )))
}

/// The area a `?area=` parameter names (default: the ICS).
pub(crate) fn area_param<'a>(app: &'a App, query: &HashMap<String, String>) -> Result<&'a Area> {
    match query.get("area") {
        None => Ok(app.catalogue.ics()),
        Some(code) => app.catalogue.area(code).ok_or_else(|| {
            Error::BadRequest(format!(
                "`area`: no area has the code `{code}`; the codes are listed at /api/areas (for example `{}`)",
                app.catalogue.ics().code
            ))
        }),
    }
}

/// The indicator an `?indicator=` parameter names.
pub(crate) fn indicator_param<'a>(app: &'a App, name: &str) -> Result<&'a IndicatorInfo> {
    app.catalogue.indicator(name).ok_or_else(|| {
        let names: Vec<&str> = app.catalogue.indicators.iter().map(|i| i.name.as_str()).collect();
        let hint = phm_lang::suggest(name, names.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        Error::BadRequest(format!(
            "`indicator`: no indicator is called `{name}`{hint}; the names are listed at /api/indicators"
        ))
    })
}

/// Decimal places for an indicator's values.
pub(crate) fn decimals(ind: &IndicatorInfo) -> usize {
    if ind.method == Method::Isr && ind.multiplier <= 1.0 { 2 } else { 1 }
}

fn area_type_label(t: &str) -> &'static str {
    match t {
        "ics" => "Integrated care system",
        "place" => "Place",
        _ => "Neighbourhood",
    }
}

fn area_choices(app: &App) -> Vec<Value> {
    app.catalogue
        .areas
        .iter()
        .map(|a| json!({"code": a.code, "label": if a.area_type == "neighbourhood" { format!("{} (neighbourhood)", a.name) } else { a.name.clone() }}))
        .collect()
}

fn breadcrumbs(app: &App, area: &Area) -> Vec<Value> {
    let mut chain = Vec::new();
    let mut cur = area.parent.as_deref().and_then(|p| app.catalogue.area(p));
    while let Some(a) = cur {
        chain.push(json!({"href": format!("/areas/{}", a.code), "label": a.name}));
        cur = a.parent.as_deref().and_then(|p| app.catalogue.area(p));
    }
    chain.push(json!({"href": "/", "label": "Overview"}));
    chain.reverse();
    chain
}

fn trend_value(release: &Release, ind: &IndicatorInfo, code: &str) -> Option<Value> {
    let points = release.trend(&ind.name, code);
    if points.is_empty() {
        return None;
    }
    let variation = variation_text(points.last().and_then(|p| p.variation_icon.as_deref()));
    Some(json!({
        "title": ind.title,
        "name": ind.name,
        "decimals": decimals(ind),
        "variation": variation,
        "first": points.first().map(|p| p.period.to_string()),
        "last": points.last().map(|p| p.period.to_string()),
        "points": points,
        "spec": charts::trend(&points, &ind.title, &ind.unit()),
        "spc_reason": points.last().and_then(|p| p.spc_reason.clone()),
    }))
}

/// The Making Data Count variation icon in words.
pub(crate) fn variation_text(icon: Option<&str>) -> Option<String> {
    let text = match icon? {
        "common_cause" => "Common cause variation",
        "improvement_high" => "Special cause variation: improving, higher",
        "improvement_low" => "Special cause variation: improving, lower",
        "concern_high" => "Special cause variation: concerning, higher",
        "concern_low" => "Special cause variation: concerning, lower",
        "neither_high" => "Special cause variation: higher",
        "neither_low" => "Special cause variation: lower",
        other => other,
    };
    Some(text.to_owned())
}

/// `GET /`: the ICS overview.
pub async fn overview(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let go = || -> Result<Html<String>> {
        only(&query, &[])?;
        let release = release(&app, &visitor);
        let ics = app.catalogue.ics();
        let mut priorities = Vec::new();
        for p in &app.catalogue.framework.priorities {
            let mut headlines = Vec::new();
            for m in p.indicators.iter().filter(|m| m.headline) {
                let Some(ind) = app.catalogue.indicator(&m.name) else { continue };
                let row = release.headline(&ind.name, &ics.code);
                let points = release.trend(&ind.name, &ics.code);
                let spark_text = match (points.first(), points.last()) {
                    (Some(f), Some(l)) => format!(
                        "Trend from {} ({}) to {} ({}).",
                        f.period,
                        crate::render::number(f.value, decimals(ind)),
                        l.period,
                        crate::render::number(l.value, decimals(ind))
                    ),
                    _ => String::new(),
                };
                headlines.push(json!({
                    "name": ind.name, "title": ind.title, "unit": ind.unit(), "decimals": decimals(ind),
                    "value": row.and_then(|r| r.value), "lower_95": row.and_then(|r| r.lower_95), "upper_95": row.and_then(|r| r.upper_95),
                    "reason": row.and_then(|r| r.reason.clone()),
                    "england": row.and_then(|r| r.england_value),
                    "compared_england": row.map(|r| comparison_word(r.compared_to_england_95.as_deref())),
                    "spark": (!points.is_empty()).then(|| charts::sparkline(&points)),
                    "spark_text": spark_text,
                    "variation": variation_text(points.last().and_then(|p| p.variation_icon.as_deref())),
                }));
            }
            priorities.push(json!({"id": p.id, "title": p.title, "description": p.description, "kind": p.kind, "headlines": headlines, "count": p.indicators.len()}));
        }
        let places: Vec<&Area> = app.catalogue.areas_of("place").collect();
        let population = release.population_total(&ics.code);
        let period = release.headline(&app.catalogue.indicators[0].name, &ics.code).map(|r| r.period.to_string());
        let ctx = json!({
            "ics": ics, "framework": app.catalogue.framework.framework, "priorities": priorities, "places": places,
            "neighbourhoods": app.catalogue.areas_of("neighbourhood").count(), "population": population, "period": period,
        });
        render(&app, &visitor, "overview.html", &format!("{} overview", ics.name), "overview", ctx)
    };
    go().map_err(|e| fail(&app, &visitor, e))
}

fn peers<'a>(app: &'a App, area: &Area) -> (Vec<&'a Area>, &'static str) {
    match area.area_type.as_str() {
        "neighbourhood" => (app.catalogue.areas_of("neighbourhood").collect(), "ICS's neighbourhoods"),
        _ => (app.catalogue.areas_of("place").collect(), "ICS's places"),
    }
}

/// `GET /areas/{code}`: a place-based profile.
pub async fn area(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let go = || -> Result<Html<String>> {
        only(&query, &["map"])?;
        let area =
            app.catalogue.area(&code).ok_or_else(|| Error::NotFound(format!("No area has the code `{code}`.")))?;
        let release = release(&app, &visitor);
        let is_ics = area.area_type == "ics";
        let benchmark_name = if is_ics { "England" } else { "the ICS" };
        let (peer_areas, peer_label) = peers(&app, area);
        let mut rows = Vec::new();
        let mut spine_rows = Vec::new();
        for ind in &app.catalogue.indicators {
            let Some(row) = release.headline(&ind.name, &area.code) else { continue };
            let benchmark = if is_ics { row.england_value } else { row.ics_value };
            let compared = comparison_word(if is_ics {
                row.compared_to_england_95.as_deref()
            } else {
                row.compared_to_ics_95.as_deref()
            });
            let mut peer_values: Vec<f64> = peer_areas
                .iter()
                .filter_map(|p| release.headline(&ind.name, &p.code)?.value)
                .filter(|v| v.is_finite())
                .collect();
            peer_values.sort_by(f64::total_cmp);
            let lower_better = ind.polarity == "lower_is_better";
            let (worst, best) = match (peer_values.first(), peer_values.last()) {
                (Some(&lo), Some(&hi)) if lower_better => (Some(hi), Some(lo)),
                (Some(&lo), Some(&hi)) => (Some(lo), Some(hi)),
                _ => (None, None),
            };
            let d = decimals(ind);
            rows.push(json!({
                "name": ind.name, "title": ind.title, "unit": ind.unit(), "decimals": d,
                "numerator": row.numerator, "value": row.value, "reason": row.reason,
                "benchmark": benchmark, "england": row.england_value, "worst": worst, "best": best,
                "compared_benchmark": compared, "compared_england": comparison_word(row.compared_to_england_95.as_deref()),
            }));
            if let (Some(b), Some(v)) = (benchmark, row.value) {
                let scale = |x: f64| charts::spine_scale(x, b, &peer_values, &ind.polarity);
                let scaled: Vec<f64> = {
                    let mut s: Vec<f64> = peer_values.iter().map(|&p| scale(p)).collect();
                    s.sort_by(f64::total_cmp);
                    s
                };
                spine_rows.push(SpineRow {
                    title: ind.title.clone(),
                    x: Some(scale(v)),
                    worst: scaled.first().copied().unwrap_or(0.0),
                    best: scaled.last().copied().unwrap_or(0.0),
                    q1: charts::quantile(&scaled, 0.25),
                    q3: charts::quantile(&scaled, 0.75),
                    england: if is_ics { None } else { row.england_value.map(scale) },
                    compared: compared.to_owned(),
                    label: format!("{} {}", crate::render::number(Some(v), d), ind.unit()),
                });
            }
        }
        // Neighbourhoods: the ICS's or the place's, on a map coloured for one indicator.
        let child_areas: Vec<&Area> = match area.area_type.as_str() {
            "ics" => app.catalogue.areas_of("neighbourhood").collect(),
            "place" => area.children.iter().filter_map(|c| app.catalogue.area(c)).collect(),
            _ => Vec::new(),
        };
        let map_choices: Vec<&IndicatorInfo> = app
            .catalogue
            .indicators
            .iter()
            .filter(|i| child_areas.first().is_some_and(|c| release.headline(&i.name, &c.code).is_some()))
            .collect();
        let map_indicator = match query.get("map") {
            Some(name) => {
                let ind = indicator_param(&app, name)
                    .map_err(|e| Error::BadRequest(e.to_string().replacen("`indicator`", "`map`", 1)))?;
                if !map_choices.iter().any(|c| c.name == ind.name) {
                    return Err(Error::BadRequest(format!("`map`: `{name}` is not reported for neighbourhoods")));
                }
                Some(ind)
            }
            None => map_choices.iter().find(|i| i.headline).or(map_choices.first()).copied(),
        };
        let mut children = Vec::new();
        let mut map_spec = json!(null);
        if let Some(mi) = map_indicator {
            let mut map_areas = Vec::new();
            for c in &child_areas {
                let row = release.headline(&mi.name, &c.code);
                let compared = comparison_word(row.and_then(|r| r.compared_to_ics_95.as_deref()));
                children.push(json!({
                    "code": c.code, "name": c.name, "value": row.and_then(|r| r.value), "lower_95": row.and_then(|r| r.lower_95),
                    "upper_95": row.and_then(|r| r.upper_95), "compared": compared,
                }));
                map_areas.push(MapArea {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    value: row.and_then(|r| r.value),
                    compared: compared.to_owned(),
                });
            }
            map_spec = charts::map(&map_areas, &app.catalogue, app.boundaries.as_ref(), &mi.title);
        }
        // Population pyramid.
        let pop: Vec<&crate::data::PopulationRow> = release.population_of(&area.code).collect();
        let bands: Vec<String> = {
            let mut b: Vec<String> = Vec::new();
            for p in &pop {
                if p.age_band != phm_model::NOT_RECORDED && !b.contains(&p.age_band) {
                    b.push(p.age_band.clone());
                }
            }
            b.sort_by_key(|s| s.split(['-', '+']).next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(999));
            b
        };
        let sexes: Vec<String> =
            ["female", "male"].iter().filter(|s| pop.iter().any(|p| p.sex == **s)).map(|s| (*s).to_owned()).collect();
        let pyramid_rows: Vec<Value> = bands
            .iter()
            .map(|b| {
                let counts: Vec<Option<u64>> = sexes
                    .iter()
                    .map(|s| pop.iter().find(|p| &p.age_band == b && &p.sex == s).and_then(|p| p.count))
                    .collect();
                json!({"band": b, "counts": counts})
            })
            .collect();
        let population = release.population_total(&area.code);
        let trends: Vec<Value> = app
            .catalogue
            .indicators
            .iter()
            .filter(|i| i.headline)
            .filter_map(|i| trend_value(release, i, &area.code))
            .collect();
        let parent = area.parent.as_deref().and_then(|p| app.catalogue.area(p));
        let period = rows
            .first()
            .and_then(|_| release.rows_for(&app.catalogue.indicators[0].name, &area.code).next())
            .map(|r| r.period.to_string());
        let ctx = json!({
            "area": area, "parent": parent, "area_type_label": area_type_label(&area.area_type), "benchmark_name": benchmark_name,
            "peer_label": peer_label, "rows": rows, "spine": charts::spine(&spine_rows, benchmark_name),
            "children": children, "map": map_spec, "map_indicator": map_indicator.map(|m| json!({"name": m.name, "title": m.title, "unit": m.unit(), "decimals": decimals(m)})),
            "map_choices": map_choices.iter().map(|m| json!({"name": m.name, "title": m.title})).collect::<Vec<_>>(),
            "map_kind": if app.boundaries.is_some() { "boundaries" } else { "hex map: each hexagon one neighbourhood, not to scale" },
            "pyramid": (!pop.is_empty()).then(|| charts::pyramid(&pop, &bands)), "pyramid_rows": pyramid_rows, "pyramid_sexes": sexes,
            "population": population, "period": period,
            "trends": trends,
            "breadcrumbs": breadcrumbs(&app, area),
            "download": {"table": "profiles", "params": format!("area={}", area.code)},
            "population_download": {"table": "population", "params": format!("area={}", area.code)},
        });
        render(&app, &visitor, "area.html", &area.name, "places", ctx)
    };
    go().map_err(|e| fail(&app, &visitor, e))
}

/// `GET /indicators`.
pub async fn indicators(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let go = || -> Result<Html<String>> {
        only(&query, &[])?;
        let priorities: Vec<Value> = app
            .catalogue
            .framework
            .priorities
            .iter()
            .map(|p| {
                let inds: Vec<Value> = p
                    .indicators
                    .iter()
                    .filter_map(|m| app.catalogue.indicator(&m.name))
                    .map(|i| json!({"name": i.name, "title": i.title, "headline": i.headline && i.priority.as_ref().is_some_and(|(id, _)| id == &p.id), "method_label": method_label(i.method), "polarity_label": polarity_label(&i.polarity)}))
                    .collect();
                json!({"id": p.id, "title": p.title, "indicators": inds})
            })
            .collect();
        render(
            &app,
            &visitor,
            "indicators.html",
            "Indicators",
            "indicators",
            json!({"priorities": priorities, "count": app.catalogue.indicators.len()}),
        )
    };
    go().map_err(|e| fail(&app, &visitor, e))
}

fn method_label(m: Method) -> &'static str {
    match m {
        Method::Proportion => "Proportion, Wilson score interval",
        Method::CrudeRate => "Crude rate, Byar's method (exact below 10)",
        Method::Dsr => "Directly standardised rate (ESP2013), Dobson's method",
        Method::Isr => "Indirectly standardised ratio",
        Method::LifeExpectancy => "Life expectancy at birth, Chiang II with Silcocks' variance",
        Method::HealthyLifeExpectancy => "Healthy life expectancy, Sullivan's method",
        Method::Count => "Count, exact Poisson / Byar's limits",
    }
}

fn polarity_label(p: &str) -> &'static str {
    match p {
        "higher_is_better" => "Higher",
        "lower_is_better" => "Lower",
        _ => "No judgement",
    }
}

/// The breakdown names shown, in order, with labels.
pub(crate) const BREAKDOWNS: [(&str, &str); 5] = [
    ("imd_decile", "IMD decile (1 = most deprived)"),
    ("imd_quintile", "IMD quintile (1 = most deprived)"),
    ("ethnicity5", "ethnic group"),
    ("sex", "sex"),
    ("age_band", "age band"),
];

fn breakdown_values(release: &Release, ind: &IndicatorInfo, area: &Area, benchmark: Option<f64>) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, label) in BREAKDOWNS {
        let mut rows: Vec<&ProfileRow> =
            release.rows_for(&ind.name, &area.code).filter(|r| r.breakdown == name).collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by_key(|r| category_order(&r.category));
        let bars: Vec<Bar> = rows
            .iter()
            .filter(|r| r.category != phm_model::NOT_RECORDED)
            .map(|r| Bar {
                category: r.category.clone(),
                value: r.value,
                lower: r.lower_95,
                upper: r.upper_95,
                compared: "not compared".into(),
            })
            .collect();
        let spec = charts::bars(
            &bars,
            &ind.unit(),
            benchmark.map(|b| (area.name.as_str(), b)),
            &format!("{} by {label}", ind.title),
        );
        out.push(json!({"name": name, "label": label, "rows": rows, "spec": spec}));
    }
    out
}

/// Sorts categories: numbers numerically (deciles, age bands), `not recorded` last.
fn category_order(c: &str) -> (u8, u32, String) {
    if c == phm_model::NOT_RECORDED {
        return (2, 0, String::new());
    }
    match c.split(['-', '+']).next().and_then(|n| n.parse::<u32>().ok()) {
        Some(n) => (0, n, c.to_owned()),
        None => (1, 0, c.to_owned()),
    }
}

/// `GET /indicators/{name}?area=`.
pub async fn indicator(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let go = || -> Result<Html<String>> {
        only(&query, &["area"])?;
        let ind = app
            .catalogue
            .indicator(&name)
            .ok_or_else(|| Error::NotFound(format!("No indicator is called `{name}`.")))?;
        let area = area_param(&app, &query)?;
        let release = release(&app, &visitor);
        let headline = release.headline(&ind.name, &area.code);
        let (compare_areas, compare_label): (Vec<&Area>, String) = match area.area_type.as_str() {
            "ics" => (app.catalogue.areas_of("place").collect(), "Places compared".into()),
            "place" => (
                area.children.iter().filter_map(|c| app.catalogue.area(c)).collect(),
                format!("Neighbourhoods of {}", area.name),
            ),
            _ => {
                let parent = area.parent.as_deref().and_then(|p| app.catalogue.area(p));
                (
                    parent
                        .map(|p| p.children.iter().filter_map(|c| app.catalogue.area(c)).collect())
                        .unwrap_or_default(),
                    "Neighbourhoods of the same place".into(),
                )
            }
        };
        let mut compare_rows = Vec::new();
        let mut bars = Vec::new();
        for a in compare_areas {
            let Some(r) = release.headline(&ind.name, &a.code) else { continue };
            let compared = comparison_word(r.compared_to_ics_95.as_deref());
            compare_rows.push(json!({"code": a.code, "name": a.name, "numerator": r.numerator, "value": r.value, "lower_95": r.lower_95, "upper_95": r.upper_95, "reason": r.reason, "compared": compared}));
            bars.push(Bar {
                category: a.name.clone(),
                value: r.value,
                lower: r.lower_95,
                upper: r.upper_95,
                compared: compared.to_owned(),
            });
        }
        let ics_value = release.headline(&ind.name, &app.catalogue.ics().code).and_then(|r| r.value);
        let compare = charts::bars(&bars, &ind.unit(), ics_value.map(|v| ("ICS", v)), &compare_label);
        let mut info = serde_json::to_value(ind).map_err(|e| Error::Internal(e.to_string()))?;
        info["priority_title"] = json!(ind.priority.as_ref().map(|p| p.1.clone()));
        let ctx = json!({
            "indicator": info, "area": area, "area_choices": area_choices(&app), "headline": headline, "decimals": decimals(ind), "unit": ind.unit(),
            "trend": trend_value(release, ind, &area.code),
            "compare": compare, "compare_rows": compare_rows, "compare_label": compare_label,
            "breakdowns": breakdown_values(release, ind, area, headline.and_then(|h| h.value)),
            "method_text": method_label(ind.method), "polarity_text": polarity_label(&ind.polarity),
            "download": {"table": "profiles", "params": format!("indicator={}&area={}", ind.name, area.code)},
            "breadcrumbs": [{"href": "/", "label": "Overview"}, {"href": "/indicators", "label": "Indicators"}],
        });
        render(&app, &visitor, "indicator.html", &format!("{} – {}", ind.title, area.name), "indicators", ctx)
    };
    go().map_err(|e| fail(&app, &visitor, e))
}

/// `GET /inequalities?indicator=&area=`.
pub async fn inequalities(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let go = || -> Result<Html<String>> {
        only(&query, &["indicator", "area"])?;
        let release = release(&app, &visitor);
        let area = area_param(&app, &query)?;
        let choices: Vec<&IndicatorInfo> = app
            .catalogue
            .indicators
            .iter()
            .filter(|i| release.rows_for(&i.name, &app.catalogue.ics().code).any(|r| r.breakdown != "all"))
            .collect();
        let ind = match query.get("indicator") {
            Some(name) => indicator_param(&app, name)?,
            None => choices
                .iter()
                .find(|i| i.method == Method::LifeExpectancy)
                .or(choices.first())
                .copied()
                .ok_or_else(|| Error::NotFound("No indicator has breakdowns.".into()))?,
        };
        let headline = release.headline(&ind.name, &area.code);
        // The life expectancy gap: each life expectancy indicator by decile.
        let mut le_points = Vec::new();
        let mut le_series = Vec::new();
        let mut le_text = Vec::new();
        for le in app.catalogue.indicators.iter().filter(|i| i.method == Method::LifeExpectancy) {
            let series = if le.title.to_lowercase().contains("female") {
                "Females"
            } else if le.title.to_lowercase().contains("male") {
                "Males"
            } else {
                le.title.as_str()
            };
            let rows: Vec<&ProfileRow> =
                release.rows_for(&le.name, &area.code).filter(|r| r.breakdown == "imd_decile").collect();
            if rows.is_empty() {
                continue;
            }
            le_series.push(series.to_owned());
            for r in rows {
                if let Ok(d) = r.category.parse::<u8>() {
                    le_points.push((series.to_owned(), d, r.value));
                }
            }
            if let Some(h) = release.headline(&le.name, &area.code)
                && let Some(sii) = h.sii
            {
                le_text.push(format!(
                    "{series}: {} years between the most and least deprived (slope index of inequality, 95% CI {} to {})",
                    crate::render::number(Some(sii), 1),
                    crate::render::number(h.sii_lower_95, 1),
                    crate::render::number(h.sii_upper_95, 1)
                ));
            }
        }
        let le_rows: Vec<Value> = (1..=10u8)
            .map(|d| {
                let values: Vec<Option<f64>> = le_series
                    .iter()
                    .map(|s| le_points.iter().find(|p| &p.0 == s && p.1 == d).and_then(|p| p.2))
                    .collect();
                json!({"decile": d, "values": values})
            })
            .collect();
        let sii = headline.filter(|h| h.sii.is_some());
        let ctx = json!({
            "indicator": ind, "area": area, "unit": ind.unit(), "decimals": decimals(ind),
            "indicator_choices": choices.iter().map(|i| json!({"name": i.name, "title": i.title})).collect::<Vec<_>>(),
            "area_choices": area_choices(&app),
            "le_gap": charts::le_gap(&le_points), "le_gap_series": le_series, "le_gap_rows": le_rows,
            "le_gap_text": if le_text.is_empty() { "The slope index is not reported for this area.".to_owned() } else { le_text.join(". ") + "." },
            "sii": sii, "sii_reason": headline.and_then(|h| h.sii_reason.clone()),
            "breakdowns": breakdown_values(release, ind, area, headline.and_then(|h| h.value)),
        });
        render(
            &app,
            &visitor,
            "inequalities.html",
            &format!("Inequalities: {} – {}", ind.title, area.name),
            "inequalities",
            ctx,
        )
    };
    go().map_err(|e| fail(&app, &visitor, e))
}

/// `GET /data-quality`: the ingest and data-quality report; reasons and checks for staff.
pub async fn data_quality(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    let go = || -> Result<Html<String>> {
        only(&query, &[])?;
        let report =
            app.catalogue.quality.as_ref().map(
                |r| json!({"snapshot": r["snapshot"], "generated_at": r["generated_at"], "sources": r["sources"]}),
            );
        let full = app.catalogue.quality.as_ref();
        let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
        let mut reasons = Vec::new();
        let mut failing = Vec::new();
        if let Some(r) = full {
            for s in r["sources"].as_array().into_iter().flatten() {
                for k in ["read", "accepted", "rejected"] {
                    *totals.entry(k).or_default() += s[k].as_u64().unwrap_or(0);
                }
                for reason in s["top_reasons"].as_array().into_iter().flatten() {
                    reasons.push(json!({"source": s["source"], "reason": reason["reason"], "count": reason["count"]}));
                }
            }
        }
        let detail = visitor.analyst();
        if detail && let Some(r) = full {
            failing = r["checks"].as_array().into_iter().flatten().filter(|c| c["status"] == "fail").cloned().collect();
        }
        if detail {
            app.auth.record_view(&visitor, "/data-quality");
        }
        let ctx = json!({"report": report, "totals": totals, "reasons": reasons, "failing": failing, "detail": detail, "folder": app.catalogue.folder.display().to_string()});
        render(&app, &visitor, "data_quality.html", "Data quality", "quality", ctx)
    };
    go().map_err(|e| fail(&app, &visitor, e))
}

/// `GET /about`.
pub async fn about(State(app): State<Arc<App>>, visitor: Visitor) -> PageResult {
    let go = || -> Result<Html<String>> {
        let release = release(&app, &visitor);
        let ctx = json!({"snapshot": release.manifest.snapshot, "versions": app.assets.versions});
        render(&app, &visitor, "about.html", "About the figures", "", ctx)
    };
    go().map_err(|e| fail(&app, &visitor, e))
}

/// Anything else: 404.
pub async fn not_found(State(app): State<Arc<App>>, visitor: Visitor, uri: axum::http::Uri) -> PageError {
    fail(&app, &visitor, Error::NotFound(format!("There is no page at {}.", uri.path())))
}
