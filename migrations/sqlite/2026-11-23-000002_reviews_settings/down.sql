DROP TABLE server_settings;
DROP INDEX reports_status;
DROP INDEX revisions_report_id;
DROP TABLE report_reviews;
