//! Ages and the age bands used by OHID Fingertips (the 19 bands of ESP2013).

use chrono::{Datelike, NaiveDate};

/// Completed years of age on `on` for someone born on `birth`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Labels of the 19 ESP2013 bands used by Fingertips: `0-4`, `5-9`, ..., `85-89`, `90+`.
pub const ESP_BANDS: [&str; 19] = [
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60-64",
    "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
];

/// Index into [`ESP_BANDS`] for an age in completed years (negative ages count as 0).
pub fn esp_band_index(age: i32) -> usize {
    usize::try_from(age.max(0) / 5).unwrap_or(0).min(18)
}

/// The [`ESP_BANDS`] label for an age in completed years.
pub fn esp_band(age: i32) -> &'static str {
    ESP_BANDS[esp_band_index(age)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_counts_completed_years_including_leap_day_births() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(age_on(d(2000, 6, 15), d(2020, 6, 14)), 19);
        assert_eq!(age_on(d(2000, 6, 15), d(2020, 6, 15)), 20);
        // Someone born on 29 February turns a year older on 1 March in common years.
        assert_eq!(age_on(d(2004, 2, 29), d(2021, 2, 28)), 16);
        assert_eq!(age_on(d(2004, 2, 29), d(2021, 3, 1)), 17);
    }

    #[test]
    fn bands_follow_esp2013() {
        assert_eq!(esp_band(0), "0-4");
        assert_eq!(esp_band(4), "0-4");
        assert_eq!(esp_band(5), "5-9");
        assert_eq!(esp_band(89), "85-89");
        assert_eq!(esp_band(90), "90+");
        assert_eq!(esp_band(117), "90+");
    }
}
