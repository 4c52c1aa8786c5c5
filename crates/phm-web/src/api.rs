//! The JSON API. Every answer is a typed struct below, and the OpenAPI document served at
//! `/api/openapi.json` is generated from those types and the handlers' `#[utoipa::path]`
//! attributes ([`ApiDoc`]), then given the catalogue's area codes and indicator names as the
//! values of the parameters that name one ([`openapi_document`]). Every figure comes from a
//! released table: the `public` release for anonymous clients, the `analyst` release for a
//! signed-in session. A malformed parameter is a 400 naming it. Every answer of a data endpoint
//! (`profiles`, `trends`, `population`) to signed-in staff is written to the audit trail as an
//! `export` in format `json` (who, endpoint and filters, rows, policy), and refused if the trail
//! cannot be written; anonymous clients get only the `public` release, which is published data,
//! and are not audited.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use phm_profiles::{PopulationRow, ProfileRow, TrendRow};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::auth::Visitor;
use crate::data::{Area, Catalogue, IndicatorInfo, Release};
use crate::error::ApiError;
use crate::pages::{area_param, indicator_param, only, release};
use crate::{App, Error, Result};

/// The answer as JSON, or the error's status and [`ErrorBody`].
fn respond<T: Serialize>(answer: Result<T>) -> Response {
    match answer {
        Ok(body) => Json(body).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

/// A kind of area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    /// The integrated care system.
    Ics,
    /// A place (local authority).
    Place,
    /// A neighbourhood (primary care network).
    Neighbourhood,
}

impl AreaKind {
    /// Every kind, largest first.
    pub const ALL: [AreaKind; 3] = [AreaKind::Ics, AreaKind::Place, AreaKind::Neighbourhood];

    /// The name used in URLs and tables.
    pub fn name(self) -> &'static str {
        match self {
            AreaKind::Ics => "ics",
            AreaKind::Place => "place",
            AreaKind::Neighbourhood => "neighbourhood",
        }
    }

    fn label(self) -> &'static str {
        match self {
            AreaKind::Ics => "Integrated care system",
            AreaKind::Place => "Place (local authority)",
            AreaKind::Neighbourhood => "Neighbourhood (primary care network)",
        }
    }

    fn parse(name: &str) -> Option<AreaKind> {
        AreaKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Whether a value should be judged against a comparator, and which way.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolarityName {
    /// Higher is better.
    HigherIsBetter,
    /// Lower is better.
    LowerIsBetter,
    /// Neither.
    NoJudgement,
}

/// The body of every error: the HTTP status and a message naming what was wrong.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// The HTTP status.
    pub error: u16,
    /// What was wrong, and where the valid values are listed.
    pub message: String,
}

/// One kind of area and how many there are.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaType {
    /// The kind.
    pub id: AreaKind,
    /// Its name in words.
    pub label: &'static str,
    /// Areas of the kind.
    pub areas: usize,
}

/// `GET /api/area-types`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaTypes {
    /// Every kind of area, largest first.
    pub area_types: Vec<AreaType>,
}

/// `GET /api/areas`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Areas<'a> {
    /// The areas: the ICS, then places, then neighbourhoods, each by name.
    pub areas: Vec<&'a Area>,
}

/// `GET /api/areas/{code}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OneArea<'a> {
    /// The area.
    pub area: &'a Area,
}

/// The framework priority an indicator belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Priority<'a> {
    /// Identifier.
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
}

/// Where an indicator's definition is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Source<'a> {
    /// The definition file.
    pub definition: &'a str,
    /// SHA-256 of the definition file when the profiles were computed.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub definition_sha256: &'a str,
}

/// An indicator's metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct Indicator<'a> {
    /// Name (identifier).
    pub name: &'a str,
    /// Title.
    pub title: &'a str,
    /// Statistical method (`proportion`, `crude_rate`, `dsr`, …).
    pub method: &'a str,
    /// 100 for a percentage, 100,000 for a rate per 100,000.
    pub multiplier: f64,
    /// How values are expressed: `%`, `per 1,000`, `years`, …
    pub unit: String,
    /// Which way is better.
    #[schema(value_type = PolarityName)]
    pub polarity: &'a str,
    /// Why it matters.
    pub rationale: Option<&'a str>,
    /// Known limitations.
    pub caveats: Option<&'a str>,
    /// Fingertips indicator id.
    pub fingertips: Option<i64>,
    /// Breakdowns it is reported by.
    pub breakdowns: &'a [String],
    /// Index date.
    pub index_date: Option<NaiveDate>,
    /// The framework priority it belongs to.
    pub priority: Option<Priority<'a>>,
    /// Whether it is one of its priority's headline indicators.
    pub headline: bool,
    /// Its definition.
    pub source: Source<'a>,
}

impl<'a> Indicator<'a> {
    fn of(ind: &'a IndicatorInfo) -> Self {
        Indicator {
            name: &ind.name,
            title: &ind.title,
            method: ind.method.as_str(),
            multiplier: ind.multiplier,
            unit: ind.unit(),
            polarity: &ind.polarity,
            rationale: ind.rationale.as_deref(),
            caveats: ind.caveats.as_deref(),
            fingertips: ind.fingertips,
            breakdowns: &ind.breakdowns,
            index_date: ind.index_date,
            priority: ind.priority.as_ref().map(|(id, title)| Priority { id, title }),
            headline: ind.headline,
            source: Source { definition: &ind.definition, definition_sha256: &ind.definition_sha256 },
        }
    }
}

/// `GET /api/indicators`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Indicators<'a> {
    /// Every indicator, in framework order.
    pub indicators: Vec<Indicator<'a>>,
}

/// An indicator with its definition as written.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorWithDefinition<'a> {
    /// The metadata.
    #[serde(flatten)]
    pub indicator: Indicator<'a>,
    /// The indicator's block of its definition file, comments above it included.
    pub definition_text: Option<&'a str>,
}

/// `GET /api/indicators/{name}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OneIndicator<'a> {
    /// The indicator.
    pub indicator: IndicatorWithDefinition<'a>,
}

/// `GET /api/profiles`: a page of rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Profiles<'a> {
    /// The disclosure policy the rows were released under.
    pub policy: &'a str,
    /// Rows the filters select.
    pub total: usize,
    /// Rows skipped.
    pub offset: usize,
    /// Rows per page.
    pub limit: usize,
    /// The page.
    #[schema(value_type = Vec<schema::ProfileRow>)]
    pub rows: Vec<&'a ProfileRow>,
}

/// `GET /api/trends`: one indicator's trend for one area, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Trend<'a> {
    /// The disclosure policy the points were released under.
    pub policy: &'a str,
    /// The indicator.
    pub indicator: &'a str,
    /// The area's code.
    pub area: &'a str,
    /// The points.
    #[schema(value_type = Vec<schema::TrendRow>)]
    pub points: Vec<&'a TrendRow>,
}

/// `GET /api/population`: registered population by sex and five-year age band.
#[derive(Debug, Serialize, ToSchema)]
pub struct Population<'a> {
    /// The disclosure policy the counts were released under.
    pub policy: &'a str,
    /// The area's code.
    pub area: &'a str,
    /// The rows (latest period; no `all` totals).
    #[schema(value_type = Vec<schema::PopulationRow>)]
    pub rows: Vec<&'a PopulationRow>,
}

/// The schemas of the released rows of `phm_profiles`, field for field (the test
/// `row_schemas_list_the_fields_served` checks the names and their order against the rows).
#[allow(dead_code)]
pub mod schema {
    use chrono::NaiveDate;
    use utoipa::ToSchema;

    /// A released profile row (as in `profiles.csv`).
    #[derive(ToSchema)]
    pub struct ProfileRow {
        indicator: String,
        title: String,
        method: String,
        multiplier: f64,
        polarity: String,
        period: NaiveDate,
        area_type: String,
        area_code: String,
        area_name: String,
        parent_code: Option<String>,
        breakdown: String,
        category: String,
        numerator: Option<u64>,
        denominator: Option<u64>,
        value: Option<f64>,
        lower_95: Option<f64>,
        upper_95: Option<f64>,
        lower_99_8: Option<f64>,
        upper_99_8: Option<f64>,
        reason: Option<String>,
        sii: Option<f64>,
        sii_lower_95: Option<f64>,
        sii_upper_95: Option<f64>,
        rii: Option<f64>,
        rii_lower_95: Option<f64>,
        rii_upper_95: Option<f64>,
        sii_reason: Option<String>,
        ics_value: Option<f64>,
        compared_to_ics_95: Option<String>,
        compared_to_ics_99_8: Option<String>,
        england_value: Option<f64>,
        england_period: Option<String>,
        compared_to_england_95: Option<String>,
        compared_to_england_99_8: Option<String>,
        disclosure: String,
        definition: String,
        definition_sha256: String,
    }

    /// A released trend point with its SPC (XmR) limits (as in `trends.csv`).
    #[derive(ToSchema)]
    #[schema(as = TrendPoint)]
    pub struct TrendRow {
        indicator: String,
        title: String,
        method: String,
        polarity: String,
        period: NaiveDate,
        area_type: String,
        area_code: String,
        area_name: String,
        numerator: Option<u64>,
        denominator: Option<u64>,
        value: Option<f64>,
        lower_95: Option<f64>,
        upper_95: Option<f64>,
        reason: Option<String>,
        disclosure: String,
        mean: Option<f64>,
        lower_process_limit: Option<f64>,
        upper_process_limit: Option<f64>,
        special_cause: Option<String>,
        variation: Option<String>,
        variation_icon: Option<String>,
        assurance_icon: String,
        spc_reason: Option<String>,
    }

    /// A released population count by sex and age band (as in `population.csv`).
    #[derive(ToSchema)]
    pub struct PopulationRow {
        area_type: String,
        area_code: String,
        area_name: String,
        period: NaiveDate,
        sex: String,
        age_band: String,
        count: Option<u64>,
        disclosure: String,
    }
}

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

/// The OpenAPI description of the API, from the handlers and types of this module.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "OpenPHM API",
        version = "1",
        description = "Disclosure-controlled population health profiles for an integrated care system: areas, indicator metadata, profiles by breakdown, trends with SPC limits and population by age and sex. Anonymous clients get the `public` release (counts 1-7 suppressed, others rounded to 5); a signed-in session gets the `analyst` release. No endpoint returns person-level data.",
        license(name = "Apache-2.0")
    ),
    paths(area_types, areas, area, indicators, indicator, profiles, trends, population, crate::export::download)
)]
pub struct ApiDoc;

/// The parameters whose values are the catalogue's area codes.
const AREA_PARAMETERS: [&str; 2] = ["code", "area"];
/// The parameters whose values are the catalogue's indicator names.
const INDICATOR_PARAMETERS: [&str; 2] = ["name", "indicator"];

/// The OpenAPI document as served: [`ApiDoc`] with every area code and indicator name of
/// `catalogue` as the values (`enum`) of the parameters that name one.
///
/// # Errors
/// The document does not serialise (a bug).
pub fn openapi_document(catalogue: &Catalogue) -> Result<String> {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).map_err(|e| Error::Internal(format!("OpenAPI: {e}")))?;
    let codes: Vec<&str> = catalogue.areas.iter().map(|a| a.code.as_str()).collect();
    let names: Vec<&str> = catalogue.indicators.iter().map(|i| i.name.as_str()).collect();
    let operations = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
        .flat_map(|item| item.as_object_mut().into_iter().flat_map(|ops| ops.values_mut()));
    for op in operations {
        for param in op.get_mut("parameters").and_then(|p| p.as_array_mut()).into_iter().flatten() {
            let name = param["name"].as_str().unwrap_or_default();
            let values = if AREA_PARAMETERS.contains(&name) {
                &codes
            } else if INDICATOR_PARAMETERS.contains(&name) {
                &names
            } else {
                continue;
            };
            if let Some(schema) = param.get_mut("schema").and_then(|s| s.as_object_mut()) {
                schema.remove("pattern");
                schema.insert("enum".into(), serde_json::json!(values));
            }
            if let (Some(first), Some(p)) = (values.first(), param.as_object_mut()) {
                p.entry("example").or_insert_with(|| serde_json::json!(first));
            }
        }
    }
    serde_json::to_string_pretty(&doc).map_err(|e| Error::Internal(format!("OpenAPI: {e}")))
}

/// `GET /api/openapi.json`.
pub async fn openapi(State(app): State<Arc<App>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], app.openapi.clone()).into_response()
}

/// Kinds of area and how many of each.
#[utoipa::path(get, path = "/api/area-types", operation_id = "areaTypes",
    responses(
        (status = 200, description = "Area types", body = AreaTypes),
        (status = 400, description = "A malformed or unknown parameter: the message names it and what was expected", body = ErrorBody),
    ))]
pub async fn area_types(State(app): State<Arc<App>>, Query(query): Query<HashMap<String, String>>) -> Response {
    respond(only(&query, &[]).map(|()| {
        AreaTypes {
            area_types: AreaKind::ALL
                .into_iter()
                .map(|id| AreaType { id, label: id.label(), areas: app.catalogue.areas_of(id.name()).count() })
                .collect(),
        }
    }))
}

/// Areas, optionally of one type.
#[utoipa::path(get, path = "/api/areas", operation_id = "areas",
    params(("type" = Option<AreaKind>, Query, description = "Area type")),
    responses(
        (status = 200, description = "Areas", body = Areas),
        (status = 400, description = "A malformed or unknown parameter: the message names it and what was expected", body = ErrorBody),
    ))]
pub async fn areas(State(app): State<Arc<App>>, Query(query): Query<HashMap<String, String>>) -> Response {
    respond(areas_of(&app, &query))
}

fn areas_of<'a>(app: &'a App, query: &HashMap<String, String>) -> Result<Areas<'a>> {
    only(query, &["type"])?;
    let areas = match query.get("type").map(String::as_str) {
        None => app.catalogue.areas.iter().collect(),
        Some(t) => match AreaKind::parse(t) {
            Some(kind) => app.catalogue.areas_of(kind.name()).collect(),
            None => {
                return Err(Error::BadRequest(format!(
                    "`type`: expected `ics`, `place` or `neighbourhood`, found `{t}`"
                )));
            }
        },
    };
    Ok(Areas { areas })
}

/// One area, with the areas within it.
#[utoipa::path(get, path = "/api/areas/{code}", operation_id = "area",
    params(("code" = String, Path, description = "Area code (from /api/areas)")),
    responses(
        (status = 200, description = "The area", body = OneArea),
        (status = 404, description = "No such area or indicator", body = ErrorBody),
    ))]
pub async fn area(State(app): State<Arc<App>>, Path(code): Path<String>) -> Response {
    respond(
        app.catalogue
            .area(&code)
            .map(|area| OneArea { area })
            .ok_or_else(|| Error::NotFound(format!("no area has the code `{code}`"))),
    )
}

/// Indicator metadata: method, polarity, source and definition hash.
#[utoipa::path(get, path = "/api/indicators", operation_id = "indicators",
    responses(
        (status = 200, description = "Indicators", body = Indicators),
        (status = 400, description = "A malformed or unknown parameter: the message names it and what was expected", body = ErrorBody),
    ))]
pub async fn indicators(State(app): State<Arc<App>>, Query(query): Query<HashMap<String, String>>) -> Response {
    respond(
        only(&query, &[])
            .map(|()| Indicators { indicators: app.catalogue.indicators.iter().map(Indicator::of).collect() }),
    )
}

/// One indicator, with its definition as written.
#[utoipa::path(get, path = "/api/indicators/{name}", operation_id = "indicator",
    params(("name" = String, Path, description = "Indicator name")),
    responses(
        (status = 200, description = "The indicator", body = OneIndicator),
        (status = 404, description = "No such area or indicator", body = ErrorBody),
    ))]
pub async fn indicator(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    respond(
        app.catalogue
            .indicator(&name)
            .map(|ind| OneIndicator {
                indicator: IndicatorWithDefinition {
                    indicator: Indicator::of(ind),
                    definition_text: ind.source.as_deref(),
                },
            })
            .ok_or_else(|| Error::NotFound(format!("no indicator is called `{name}`"))),
    )
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
        && AreaKind::parse(t).is_none()
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

/// A breakdown a `breakdown` parameter may name.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakdownName {
    /// Everyone.
    All,
    /// IMD decile.
    ImdDecile,
    /// IMD quintile.
    ImdQuintile,
    /// Five ethnic groups.
    Ethnicity5,
    /// Sex.
    Sex,
    /// Age band.
    AgeBand,
}

/// Profile rows: values, confidence limits, SII/RII and comparisons.
#[utoipa::path(get, path = "/api/profiles", operation_id = "profiles",
    params(
        ("indicator" = Option<String>, Query, description = "Indicator name (from /api/indicators)"),
        ("area" = Option<String>, Query, description = "Area code (from /api/areas)"),
        ("area_type" = Option<AreaKind>, Query, description = "Area type"),
        ("breakdown" = Option<BreakdownName>, Query, description = "Breakdown"),
        ("limit" = Option<usize>, Query, description = "Rows per page (default 1000)", minimum = 0, maximum = 10000),
        ("offset" = Option<usize>, Query, description = "Rows to skip (default 0)", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of rows", body = Profiles),
        (status = 400, description = "A malformed or unknown parameter: the message names it and what was expected", body = ErrorBody),
    ))]
pub async fn profiles(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(profiles_page(&app, &visitor, &query))
}

fn profiles_page<'a>(app: &'a App, visitor: &Visitor, query: &HashMap<String, String>) -> Result<Profiles<'a>> {
    only(query, &["indicator", "area", "area_type", "breakdown", "limit", "offset"])?;
    let release = release(app, visitor);
    let limit = whole(query, "limit", 1000, 10_000)?;
    let offset = whole(query, "offset", 0, usize::MAX)?;
    let rows = select_rows(app, release, query)?;
    let total = rows.len();
    let rows: Vec<&ProfileRow> = rows.into_iter().skip(offset).take(limit).collect();
    audit(app, visitor, "api/profiles", rows.len(), release, query)?;
    Ok(Profiles { policy: release.policy.name(), total, offset, limit, rows })
}

/// An indicator's trend for one area with SPC (XmR) limits.
#[utoipa::path(get, path = "/api/trends", operation_id = "trends",
    params(
        ("indicator" = String, Query, description = "Indicator name (from /api/indicators)"),
        ("area" = Option<String>, Query, description = "Area code (from /api/areas; default the ICS)"),
    ),
    responses(
        (status = 200, description = "The trend, oldest first", body = Trend),
        (status = 400, description = "A malformed or unknown parameter: the message names it and what was expected", body = ErrorBody),
    ))]
pub async fn trends(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(trend_of(&app, &visitor, &query))
}

fn trend_of<'a>(app: &'a App, visitor: &Visitor, query: &HashMap<String, String>) -> Result<Trend<'a>> {
    only(query, &["indicator", "area"])?;
    let name = query
        .get("indicator")
        .ok_or_else(|| Error::BadRequest("`indicator` is required: name an indicator from /api/indicators".into()))?;
    let ind = indicator_param(app, name)?;
    let area = area_param(app, query)?;
    let release = release(app, visitor);
    let points = release.trend(&ind.name, &area.code);
    audit(app, visitor, "api/trends", points.len(), release, query)?;
    Ok(Trend { policy: release.policy.name(), indicator: &ind.name, area: &area.code, points })
}

/// Registered population by sex and five-year age band.
#[utoipa::path(get, path = "/api/population", operation_id = "population",
    params(("area" = Option<String>, Query, description = "Area code (from /api/areas; default the ICS)")),
    responses(
        (status = 200, description = "Population", body = Population),
        (status = 400, description = "A malformed or unknown parameter: the message names it and what was expected", body = ErrorBody),
    ))]
pub async fn population(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    respond(population_of(&app, &visitor, &query))
}

fn population_of<'a>(app: &'a App, visitor: &Visitor, query: &HashMap<String, String>) -> Result<Population<'a>> {
    only(query, &["area"])?;
    let area = area_param(app, query)?;
    let release = release(app, visitor);
    let rows: Vec<&PopulationRow> = release.population_of(&area.code).collect();
    audit(app, visitor, "api/population", rows.len(), release, query)?;
    Ok(Population { policy: release.policy.name(), area: &area.code, rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor as SerdeVisitor};

    /// The keys of a JSON object, in the order they are written.
    fn keys(json: &str) -> Vec<String> {
        struct Keys;
        impl<'de> SerdeVisitor<'de> for Keys {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Vec<String>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    out.push(k);
                }
                Ok(out)
            }
        }
        serde_json::Deserializer::from_str(json).deserialize_map(Keys).expect("an object")
    }

    /// The schema's properties in their declared order (a `serde_json::Value` would sort them).
    fn properties<T: utoipa::PartialSchema>() -> Vec<String> {
        match T::schema() {
            utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(o)) => {
                o.properties.keys().cloned().collect()
            }
            _ => panic!("not an object schema"),
        }
    }

    /// Each row schema names the fields a released row is served with, in the same order.
    #[test]
    fn row_schemas_list_the_fields_served() {
        let common = serde_json::json!({
            "indicator": "x", "title": "X", "method": "proportion", "multiplier": 100.0, "polarity": "no_judgement",
            "period": "2026-03-31", "area_type": "ics", "area_code": "E54000024", "area_name": "ICS",
            "breakdown": "all", "category": "all", "sex": "all", "age_band": "all", "disclosure": "published",
            "definition": "d.phm", "definition_sha256": "0", "assurance_icon": "no_target",
        });
        let profile: ProfileRow = serde_json::from_value(common.clone()).expect("a profile row");
        let trend: TrendRow = serde_json::from_value(common.clone()).expect("a trend row");
        let population: PopulationRow = serde_json::from_value(common).expect("a population row");
        assert_eq!(properties::<schema::ProfileRow>(), served(&profile));
        assert_eq!(properties::<schema::TrendRow>(), served(&trend));
        assert_eq!(properties::<schema::PopulationRow>(), served(&population));
    }

    fn served<T: Serialize>(row: &T) -> Vec<String> {
        keys(&serde_json::to_string(row).expect("serialises"))
    }
}
