DROP TABLE integration_keys;
