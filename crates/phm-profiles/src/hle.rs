//! Healthy life expectancy at birth by Sullivan's method (`phm_stats::healthy_life_expectancy`):
//! the life table of the life-expectancy indicator, split by the proportion in good health
//! counted in each life-table band of the whole population (not a survey sample, so the
//! binomial variance is small).

use phm_stats::healthy_life_expectancy::{HealthSurvey, sullivan};
use phm_stats::life_expectancy::LifeTableRow;

use crate::figures::{Figure, LEVELS};

/// Healthy life expectancy at birth from a life `table` and, per band, (in good health,
/// counted) in `health`.
pub(crate) fn at_birth(table: &[LifeTableRow], health: &[(f64, f64)]) -> Result<Figure, Figure> {
    let survey: Vec<HealthSurvey> = health.iter().map(|&(healthy, surveyed)| HealthSurvey { healthy, surveyed }).collect();
    let mut figure = Figure::default();
    for (k, level) in LEVELS.iter().enumerate() {
        let at_birth = sullivan(table, &survey, *level).into_iter().find(|r| r.start_age == 0).ok_or_else(|| Figure::not_reported("no band starting at age 0"))?;
        match at_birth.result {
            Ok(e) => {
                figure.value = Some(e.value);
                figure.limits[k] = Some((e.lower, e.upper));
                figure.standard_error = Some(e.standard_error);
            }
            Err(reason) => return Err(Figure::not_reported(reason.to_string())),
        }
    }
    Ok(figure)
}
