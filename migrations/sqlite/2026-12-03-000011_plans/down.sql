DROP TABLE report_progress;
DROP TABLE plan_revisions;
DROP TABLE plans;
