-- A commune's history in one data set (outlier warnings, commune pages) is one index range;
-- with only (commune_code), the planner preferred skipping through the unique key and read
-- thousands of entries per submission at national scale.
DROP INDEX reports_commune_code;
CREATE INDEX reports_commune_dataset_period ON reports (commune_code, dataset_code, period);
