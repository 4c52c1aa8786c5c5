-- The example indicator set (definitions/indicators/catalogue.phm) written by hand in DuckDB
-- SQL, the comparator of bench/engine.sh. Same numbers as `phm run` on the same snapshot:
-- one `all` row per indicator and one row per category of each breakdown it lists.
--
-- Variables (set by bench/catalogue_duckdb.py): `snapshot` (STORE/current), `reference`
-- (reference/), `codelists` (codelists/), `index_date`.
--
-- Semantics mirrored from the engine (crates/phm-lang/src/bind.rs, phm-engine/src/compile.rs):
--   in population = registered on the index date (start_date <= index, end_date missing or
--   >= index), alive (no death or died after the index date), no national data opt-out;
--   practice = practice of the latest such registration ordered by (start_date, end_date
--   missing last, practice_code); `within 12 months before d` = (d - 12 months, d];
--   last(...) orders by date, code, then the other columns, missing last; numerators only
--   count inside the denominator; breakdown categories are those of every person in `person`,
--   missing values as `not recorded`.

-- Codelists: the `code` column of each file the definitions name.
CREATE OR REPLACE TEMP TABLE codelist AS
SELECT DISTINCT parse_filename(filename, true) AS list, trim(code) AS code
FROM read_csv(
    [getvariable('codelists') || '/' || f || '.csv' FOR f IN [
        'hypertension', 'diabetes_type_1', 'diabetes_type_2', 'asthma', 'copd', 'depression',
        'atrial_fibrillation', 'frailty_diagnosis', 'smoking_current', 'smoking_ex',
        'smoking_never', 'systolic_bp', 'diastolic_bp', 'mmr_vaccination', 'hpv_vaccination',
        'flu_vaccination']],
    filename = true, union_by_name = true, all_varchar = true);

-- Which breakdowns each indicator lists, its method and multiplier.
CREATE OR REPLACE TEMP TABLE indicator_spec AS
SELECT indicator, method, multiplier, unnest(breakdowns) AS breakdown
FROM (VALUES
    ('hypertension_prevalence', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'imd_decile', 'ethnicity5', 'ethnicity', 'sex', 'age_band']),
    ('diabetes_prevalence', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex', 'age_band']),
    ('asthma_prevalence', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex', 'age_band']),
    ('copd_prevalence', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex', 'age_band']),
    ('depression_prevalence', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex', 'age_band']),
    ('af_prevalence', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex', 'age_band']),
    ('smoking_prevalence', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex', 'age_band']),
    ('bp_control_under_80', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex', 'age_band']),
    ('mmr2_by_age_5', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex']),
    ('hpv_by_age_15', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex']),
    ('flu_vaccination_65_plus', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex', 'age_band']),
    ('frailty_recorded_65_plus', 'proportion', 100.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex', 'age_band']),
    ('emergency_admissions_rate', 'crude_rate', 100000.0, ['place', 'neighbourhood', 'practice', 'imd_quintile', 'ethnicity5', 'sex', 'age_band'])
) AS t(indicator, method, multiplier, breakdowns)
UNION ALL
SELECT indicator, method, multiplier, 'all'
FROM (VALUES ('hypertension_prevalence', 'proportion', 100.0), ('diabetes_prevalence', 'proportion', 100.0),
    ('asthma_prevalence', 'proportion', 100.0), ('copd_prevalence', 'proportion', 100.0),
    ('depression_prevalence', 'proportion', 100.0), ('af_prevalence', 'proportion', 100.0),
    ('smoking_prevalence', 'proportion', 100.0), ('bp_control_under_80', 'proportion', 100.0),
    ('mmr2_by_age_5', 'proportion', 100.0), ('hpv_by_age_15', 'proportion', 100.0),
    ('flu_vaccination_65_plus', 'proportion', 100.0), ('frailty_recorded_65_plus', 'proportion', 100.0),
    ('emergency_admissions_rate', 'crude_rate', 100000.0)) AS t(indicator, method, multiplier);

CREATE OR REPLACE TEMP TABLE result AS
WITH
areas AS (
    SELECT area_code, place_code AS place, CAST(imd_decile AS BIGINT) AS imd_decile
    FROM read_csv(getvariable('reference') || '/areas.csv', all_varchar = true)
),
practices AS (
    SELECT practice_code, pcn_code FROM read_csv(getvariable('reference') || '/practices.csv', all_varchar = true)
),

-- GP registration active on the index date; the practice of the latest one.
reg AS (
    SELECT person_id,
           arg_max(practice_code, (start_date, coalesce(end_date, DATE '9999-12-31'), practice_code)) AS practice
    FROM read_parquet(getvariable('snapshot') || '/registration/*.parquet')
    WHERE start_date <= getvariable('index_date')
      AND (end_date IS NULL OR end_date >= getvariable('index_date'))
    GROUP BY person_id
),

-- Diagnoses ever recorded on or before the index date.
cond AS (
    SELECT c.person_id,
           bool_or(l.list = 'hypertension') AS has_hypertension,
           bool_or(l.list IN ('diabetes_type_1', 'diabetes_type_2')) AS has_diabetes,
           bool_or(l.list = 'asthma') AS has_asthma,
           bool_or(l.list = 'copd') AS has_copd,
           bool_or(l.list = 'depression') AS has_depression,
           bool_or(l.list = 'atrial_fibrillation') AS has_af,
           bool_or(l.list = 'frailty_diagnosis') AS has_frailty
    FROM read_parquet(getvariable('snapshot') || '/condition/*.parquet') c
    JOIN codelist l ON l.code = c.code
    WHERE c.date <= getvariable('index_date')
      AND l.list IN ('hypertension', 'diabetes_type_1', 'diabetes_type_2', 'asthma', 'copd',
                     'depression', 'atrial_fibrillation', 'frailty_diagnosis')
    GROUP BY c.person_id
),

-- Latest smoking status ever; latest blood pressures in the 12 months to the index date.
-- last(...) orders by date, code, code_system, value: ties on the date resolve the same way.
obs AS (
    SELECT o.person_id,
           arg_max(o.code, (o.date, o.code))
               FILTER (WHERE l.list IN ('smoking_current', 'smoking_ex', 'smoking_never')) AS latest_smoking_code,
           arg_max(o.value, (o.date, o.code, o.code_system, o.value))
               FILTER (WHERE l.list = 'systolic_bp' AND o.value IS NOT NULL
                         AND o.date > getvariable('index_date') - INTERVAL 12 MONTH) AS last_systolic,
           arg_max(o.value, (o.date, o.code, o.code_system, o.value))
               FILTER (WHERE l.list = 'diastolic_bp' AND o.value IS NOT NULL
                         AND o.date > getvariable('index_date') - INTERVAL 12 MONTH) AS last_diastolic
    FROM read_parquet(getvariable('snapshot') || '/observation/*.parquet') o
    JOIN codelist l ON l.code = o.code
    WHERE o.date <= getvariable('index_date')
      AND l.list IN ('smoking_current', 'smoking_ex', 'smoking_never', 'systolic_bp', 'diastolic_bp')
    GROUP BY o.person_id
),

-- Vaccinations on or before the index date; flu this season.
imm AS (
    SELECT i.person_id,
           count(*) FILTER (WHERE l.list = 'mmr_vaccination') AS mmr_doses,
           count(*) FILTER (WHERE l.list = 'hpv_vaccination') AS hpv_doses,
           bool_or(l.list = 'flu_vaccination' AND i.date >= DATE '2025-09-01') AS flu_this_season
    FROM read_parquet(getvariable('snapshot') || '/immunisation/*.parquet') i
    JOIN codelist l ON l.code = i.code
    WHERE i.date <= getvariable('index_date')
      AND l.list IN ('mmr_vaccination', 'hpv_vaccination', 'flu_vaccination')
    GROUP BY i.person_id
),

-- Emergency admissions in the 12 months to the index date.
enc AS (
    SELECT person_id, count(*) AS emergency_admissions_12m
    FROM read_parquet(getvariable('snapshot') || '/encounter/*.parquet')
    WHERE setting = 'emergency_admission'
      AND start_date > getvariable('index_date') - INTERVAL 12 MONTH
      AND start_date <= getvariable('index_date')
    GROUP BY person_id
),

-- One row per person: breakdowns and the variables the indicators use.
people AS (
    SELECT p.person_id,
           p.sex,
           p.ethnic_category AS ethnicity,
           p.ethnic_group_5 AS ethnicity5,
           a.place,
           a.imd_decile,
           (a.imd_decile + 1) // 2 AS imd_quintile,
           r.practice,
           pr.pcn_code AS neighbourhood,
           year(getvariable('index_date')) - p.year_of_birth
               - CASE WHEN month(getvariable('index_date')) < coalesce(p.month_of_birth, 7) THEN 1 ELSE 0 END AS age,
           r.person_id IS NOT NULL
               AND (p.date_of_death IS NULL OR p.date_of_death > getvariable('index_date'))
               AND NOT p.national_data_opt_out AS in_population,
           c.has_hypertension, c.has_diabetes, c.has_asthma, c.has_copd, c.has_depression, c.has_af, c.has_frailty,
           o.latest_smoking_code,
           sc.code IS NOT NULL AS current_smoker,
           o.last_systolic, o.last_diastolic,
           coalesce(i.mmr_doses, 0) AS mmr_doses,
           coalesce(i.hpv_doses, 0) AS hpv_doses,
           coalesce(i.flu_this_season, false) AS flu_this_season,
           coalesce(e.emergency_admissions_12m, 0) AS emergency_admissions_12m
    FROM read_parquet(getvariable('snapshot') || '/person/*.parquet') p
    LEFT JOIN areas a ON a.area_code = p.area_code
    LEFT JOIN reg r ON r.person_id = p.person_id
    LEFT JOIN practices pr ON pr.practice_code = r.practice
    LEFT JOIN cond c ON c.person_id = p.person_id
    LEFT JOIN obs o ON o.person_id = p.person_id
    LEFT JOIN codelist sc ON sc.list = 'smoking_current' AND sc.code = o.latest_smoking_code
    LEFT JOIN imm i ON i.person_id = p.person_id
    LEFT JOIN enc e ON e.person_id = p.person_id
),

-- Denominator (d_) and numerator (n_) flags per indicator; missing is false.
flags AS (
    SELECT coalesce(place, 'not recorded') AS place,
           coalesce(neighbourhood, 'not recorded') AS neighbourhood,
           coalesce(practice, 'not recorded') AS practice,
           coalesce(CAST(imd_quintile AS VARCHAR), 'not recorded') AS imd_quintile,
           coalesce(CAST(imd_decile AS VARCHAR), 'not recorded') AS imd_decile,
           coalesce(ethnicity5, 'not recorded') AS ethnicity5,
           coalesce(ethnicity, 'not recorded') AS ethnicity,
           coalesce(sex, 'not recorded') AS sex,
           CASE WHEN age < 0 THEN 'not recorded'
                WHEN age >= 90 THEN '90+'
                WHEN age IS NOT NULL THEN CAST(age // 5 * 5 AS VARCHAR) || '-' || CAST(age // 5 * 5 + 4 AS VARCHAR)
                ELSE 'not recorded' END AS age_band,
           coalesce(in_population, false) AS d_all,
           coalesce(in_population AND age >= 17, false) AS d_17,
           coalesce(in_population AND age >= 18, false) AS d_18,
           coalesce(in_population AND age >= 15 AND latest_smoking_code IS NOT NULL, false) AS d_smoking,
           coalesce(in_population AND has_hypertension AND age < 80, false) AS d_bp,
           coalesce(in_population AND age = 5, false) AS d_5,
           coalesce(in_population AND age = 15, false) AS d_15,
           coalesce(in_population AND age >= 65, false) AS d_65,
           coalesce(has_hypertension, false) AS n_hypertension,
           coalesce(has_diabetes, false) AS n_diabetes,
           coalesce(has_asthma, false) AS n_asthma,
           coalesce(has_copd, false) AS n_copd,
           coalesce(has_depression, false) AS n_depression,
           coalesce(has_af, false) AS n_af,
           coalesce(has_frailty, false) AS n_frailty,
           current_smoker AS n_smoking,
           coalesce(last_systolic <= 140 AND last_diastolic <= 90, false) AS n_bp,
           mmr_doses >= 2 AS n_mmr,
           hpv_doses >= 1 AS n_hpv,
           flu_this_season AS n_flu,
           emergency_admissions_12m
    FROM people
),

-- Every breakdown in one pass.
grouped AS (
    SELECT CASE WHEN grouping(place) = 0 THEN 'place'
                WHEN grouping(neighbourhood) = 0 THEN 'neighbourhood'
                WHEN grouping(practice) = 0 THEN 'practice'
                WHEN grouping(imd_quintile) = 0 THEN 'imd_quintile'
                WHEN grouping(imd_decile) = 0 THEN 'imd_decile'
                WHEN grouping(ethnicity5) = 0 THEN 'ethnicity5'
                WHEN grouping(ethnicity) = 0 THEN 'ethnicity'
                WHEN grouping(sex) = 0 THEN 'sex'
                WHEN grouping(age_band) = 0 THEN 'age_band'
                ELSE 'all' END AS breakdown,
           coalesce(place, neighbourhood, practice, imd_quintile, imd_decile, ethnicity5, ethnicity, sex, age_band, 'all') AS category,
           count(*) FILTER (WHERE d_all AND n_hypertension) AS n1, count(*) FILTER (WHERE d_all) AS d1,
           count(*) FILTER (WHERE d_17 AND n_diabetes) AS n2, count(*) FILTER (WHERE d_17) AS d2,
           count(*) FILTER (WHERE d_all AND n_asthma) AS n3, count(*) FILTER (WHERE d_all) AS d3,
           count(*) FILTER (WHERE d_all AND n_copd) AS n4, count(*) FILTER (WHERE d_all) AS d4,
           count(*) FILTER (WHERE d_18 AND n_depression) AS n5, count(*) FILTER (WHERE d_18) AS d5,
           count(*) FILTER (WHERE d_all AND n_af) AS n6, count(*) FILTER (WHERE d_all) AS d6,
           count(*) FILTER (WHERE d_smoking AND n_smoking) AS n7, count(*) FILTER (WHERE d_smoking) AS d7,
           count(*) FILTER (WHERE d_bp AND n_bp) AS n8, count(*) FILTER (WHERE d_bp) AS d8,
           count(*) FILTER (WHERE d_5 AND n_mmr) AS n9, count(*) FILTER (WHERE d_5) AS d9,
           count(*) FILTER (WHERE d_15 AND n_hpv) AS n10, count(*) FILTER (WHERE d_15) AS d10,
           count(*) FILTER (WHERE d_65 AND n_flu) AS n11, count(*) FILTER (WHERE d_65) AS d11,
           count(*) FILTER (WHERE d_65 AND n_frailty) AS n12, count(*) FILTER (WHERE d_65) AS d12,
           coalesce(sum(emergency_admissions_12m) FILTER (WHERE d_all), 0) AS n13, count(*) FILTER (WHERE d_all) AS d13
    FROM flags
    GROUP BY GROUPING SETS ((), (place), (neighbourhood), (practice), (imd_quintile), (imd_decile),
                            (ethnicity5), (ethnicity), (sex), (age_band))
),

long AS (
    UNPIVOT grouped
    ON (n1, d1) AS hypertension_prevalence, (n2, d2) AS diabetes_prevalence,
       (n3, d3) AS asthma_prevalence, (n4, d4) AS copd_prevalence,
       (n5, d5) AS depression_prevalence, (n6, d6) AS af_prevalence,
       (n7, d7) AS smoking_prevalence, (n8, d8) AS bp_control_under_80,
       (n9, d9) AS mmr2_by_age_5, (n10, d10) AS hpv_by_age_15,
       (n11, d11) AS flu_vaccination_65_plus, (n12, d12) AS frailty_recorded_65_plus,
       (n13, d13) AS emergency_admissions_rate
    INTO NAME indicator VALUE numerator, denominator
)

SELECT l.indicator,
       getvariable('index_date') AS index_date,
       l.breakdown,
       l.category,
       CAST(l.numerator AS BIGINT) AS numerator,
       CAST(l.denominator AS BIGINT) AS denominator,
       CASE WHEN l.denominator > 0 THEN CAST(l.numerator AS DOUBLE) / CAST(l.denominator AS DOUBLE) * s.multiplier END AS value,
       s.method
FROM long l
JOIN indicator_spec s ON s.indicator = l.indicator AND s.breakdown = l.breakdown
ORDER BY l.indicator, l.breakdown, l.category;
