DROP INDEX reports_commune_dataset_period;
CREATE INDEX reports_commune_code ON reports (commune_code);
