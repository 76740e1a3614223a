//! End-to-end tests: the real application on a random loopback port, spoken to over HTTP as a
//! commune system, an analyst or a dashboard would. They run on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` names a server.

mod support;

mod accounts;
mod analysis;
mod analytics;
mod audit;
mod auth;
mod authz;
mod binary;
mod chaos;
mod contract;
mod deploy;
mod documents;
mod docx_reader;
mod imports;
mod index;
mod keys;

mod limits;
mod notifications;
mod odata;
mod openapi;
mod pages;
mod plans;
mod reference;
mod reports;
mod security;
mod trust;
