//! The JSON API, described by `openapi.json` (served at `/api/openapi.json`). Every figure
//! comes from a released table: the `public` release for anonymous clients, the `analyst`
//! release for a signed-in session. A malformed parameter is a 400 naming it. Every answer of a
//! data endpoint (`profiles`, `trends`, `population`) to signed-in staff is written to the
//! audit trail as an `export` in format `json` (who, endpoint and filters, rows, policy), and
//! refused if the trail cannot be written; anonymous clients get only the `public` release,
//! which is published data, and are not audited.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use phm_profiles::ProfileRow;
use serde_json::{Value, json};

use crate::auth::Visitor;
use crate::data::Release;
use crate::error::ApiError;
use crate::pages::{area_param, indicator_param, only, release};
use crate::{App, Error, Result};

/// The OpenAPI document.
pub const OPENAPI: &str = include_str!("../openapi.json");

type ApiResult = std::result::Result<Json<Value>, ApiError>;

fn whole(query: &HashMap<String, String>, name: &str, default: usize, max: usize) -> Result<usize> {
    match query.get(name) {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(Error::BadRequest(format!("`{name}`: expected a whole number from 0 to {max}, found `{v}`"))),
        },
    }
}

/// The query as the audit trail shows it: `k=v` pairs in key order.
fn filters(query: &HashMap<String, String>) -> String {
    let mut f: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    f.sort();
    f.join("&")
}

/// Records a data answer to signed-in staff (see the module documentation).
fn audit(
    app: &App,
    visitor: &Visitor,
    endpoint: &str,
    rows: usize,
    release: &Release,
    query: &HashMap<String, String>,
) -> Result<()> {
    if visitor.signed_in() {
        app.auth.record_export(visitor, endpoint, "json", rows, release.policy.name(), &filters(query))?;
    }
    Ok(())
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// `GET /api/area-types`.
pub async fn area_types(State(app): State<Arc<App>>, Query(query): Query<HashMap<String, String>>) -> ApiResult {
    only(&query, &[])?;
    let types: Vec<Value> = [
        ("ics", "Integrated care system"),
        ("place", "Place (local authority)"),
        ("neighbourhood", "Neighbourhood (primary care network)"),
    ]
    .iter()
    .map(|(id, label)| json!({"id": id, "label": label, "areas": app.catalogue.areas_of(id).count()}))
    .collect();
    Ok(Json(json!({"area_types": types})))
}

/// `GET /api/areas?type=`.
pub async fn areas(State(app): State<Arc<App>>, Query(query): Query<HashMap<String, String>>) -> ApiResult {
    only(&query, &["type"])?;
    let areas: Vec<&crate::data::Area> = match query.get("type").map(String::as_str) {
        None => app.catalogue.areas.iter().collect(),
        Some(t @ ("ics" | "place" | "neighbourhood")) => app.catalogue.areas_of(t).collect(),
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "`type`: expected `ics`, `place` or `neighbourhood`, found `{other}`"
            ))
            .into());
        }
    };
    Ok(Json(json!({"areas": areas})))
}

/// `GET /api/areas/{code}`.
pub async fn area(State(app): State<Arc<App>>, Path(code): Path<String>) -> ApiResult {
    let area = app.catalogue.area(&code).ok_or_else(|| Error::NotFound(format!("no area has the code `{code}`")))?;
    Ok(Json(json!({"area": area})))
}

fn indicator_json(ind: &crate::data::IndicatorInfo) -> Value {
    json!({
        "name": ind.name, "title": ind.title, "method": ind.method, "multiplier": ind.multiplier, "unit": ind.unit(),
        "polarity": ind.polarity, "rationale": ind.rationale, "caveats": ind.caveats, "fingertips": ind.fingertips,
        "breakdowns": ind.breakdowns, "index_date": ind.index_date,
        "priority": ind.priority.as_ref().map(|p| json!({"id": p.0, "title": p.1})), "headline": ind.headline,
        "source": {"definition": ind.definition, "definition_sha256": ind.definition_sha256, "changed_since_computed": ind.definition_changed},
    })
}

/// `GET /api/indicators`.
pub async fn indicators(State(app): State<Arc<App>>, Query(query): Query<HashMap<String, String>>) -> ApiResult {
    only(&query, &[])?;
    Ok(Json(json!({"indicators": app.catalogue.indicators.iter().map(indicator_json).collect::<Vec<_>>()})))
}

/// `GET /api/indicators/{name}`.
pub async fn indicator(State(app): State<Arc<App>>, Path(name): Path<String>) -> ApiResult {
    let ind =
        app.catalogue.indicator(&name).ok_or_else(|| Error::NotFound(format!("no indicator is called `{name}`")))?;
    let mut v = indicator_json(ind);
    v["definition_text"] = json!(ind.source);
    Ok(Json(json!({"indicator": v})))
}

/// The profile rows a query selects (shared by the API and the downloads).
pub(crate) fn select_rows<'a>(
    app: &'a App,
    release: &'a Release,
    query: &HashMap<String, String>,
) -> Result<Vec<&'a ProfileRow>> {
    let ind = query.get("indicator").map(|n| indicator_param(app, n)).transpose()?;
    let area = if query.contains_key("area") { Some(area_param(app, query)?) } else { None };
    let breakdown = query.get("breakdown").map(String::as_str);
    if let Some(b) = breakdown
        && b != "all"
        && !crate::pages::BREAKDOWNS.iter().any(|(n, _)| *n == b)
    {
        return Err(Error::BadRequest(format!(
            "`breakdown`: expected one of `all`, {}; found `{b}`",
            crate::pages::BREAKDOWNS.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        )));
    }
    let area_type = query.get("area_type").map(String::as_str);
    if let Some(t) = area_type
        && !matches!(t, "ics" | "place" | "neighbourhood")
    {
        return Err(Error::BadRequest(format!("`area_type`: expected `ics`, `place` or `neighbourhood`, found `{t}`")));
    }
    Ok(release
        .rows
        .iter()
        .filter(|r| ind.is_none_or(|i| r.indicator == i.name))
        .filter(|r| area.is_none_or(|a| r.area_code == a.code))
        .filter(|r| breakdown.is_none_or(|b| r.breakdown == b))
        .filter(|r| area_type.is_none_or(|t| r.area_type == t))
        .collect())
}

/// `GET /api/profiles?indicator=&area=&area_type=&breakdown=&limit=&offset=`.
pub async fn profiles(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    only(&query, &["indicator", "area", "area_type", "breakdown", "limit", "offset"])?;
    let release = release(&app, &visitor);
    let limit = whole(&query, "limit", 1000, 10_000)?;
    let offset = whole(&query, "offset", 0, usize::MAX)?;
    let rows = select_rows(&app, release, &query)?;
    let total = rows.len();
    let page: Vec<&&ProfileRow> = rows.iter().skip(offset).take(limit).collect();
    audit(&app, &visitor, "api/profiles", page.len(), release, &query)?;
    Ok(Json(json!({"policy": release.policy.name(), "total": total, "offset": offset, "limit": limit, "rows": page})))
}

/// `GET /api/trends?indicator=&area=`.
pub async fn trends(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    only(&query, &["indicator", "area"])?;
    let name = query
        .get("indicator")
        .ok_or_else(|| Error::BadRequest("`indicator` is required: name an indicator from /api/indicators".into()))?;
    let ind = indicator_param(&app, name)?;
    let area = area_param(&app, &query)?;
    let release = release(&app, &visitor);
    let points = release.trend(&ind.name, &area.code);
    audit(&app, &visitor, "api/trends", points.len(), release, &query)?;
    Ok(Json(json!({"policy": release.policy.name(), "indicator": ind.name, "area": area.code, "points": points})))
}

/// `GET /api/population?area=`.
pub async fn population(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    only(&query, &["area"])?;
    let area = area_param(&app, &query)?;
    let release = release(&app, &visitor);
    let rows: Vec<_> = release.population_of(&area.code).collect();
    audit(&app, &visitor, "api/population", rows.len(), release, &query)?;
    Ok(Json(json!({"policy": release.policy.name(), "area": area.code, "rows": rows})))
}
