DROP TABLE document_settings;
