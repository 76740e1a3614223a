//! Statements of fixed text that PostgreSQL keeps prepared.
//!
//! diesel caches a prepared statement per query text, but never for its raw `sql_query`, so
//! a hand-written statement is parsed and planned again on every call. The submission path
//! writes a revision in one such statement (a data-modifying `WITH`), so it is written here as
//! a query fragment of fixed text with typed binds, which diesel does cache.

use std::marker::PhantomData;

use chrono::NaiveDateTime;
use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Double, Integer, Nullable, SqlType, Text, Timestamp};
use diesel::{QueryResult, RunQueryDsl};

/// A bind value of a [`Prepared`] statement.
pub(crate) enum Bind<'a> {
    BigInt(i64),
    Int(i32),
    Bool(bool),
    Text(&'a str),
    NullableText(Option<&'a str>),
    Timestamp(&'a NaiveDateTime),
    Texts(&'a [String]),
    Doubles(&'a [f64]),
}

/// A statement whose text has a `?` where each bind goes, in order, returning rows of `ST`.
pub(crate) struct Prepared<'a, ST> {
    sql: &'static str,
    binds: Vec<Bind<'a>>,
    row: PhantomData<ST>,
}

impl<'a, ST> Prepared<'a, ST> {
    pub(crate) fn new(sql: &'static str, binds: Vec<Bind<'a>>) -> Self {
        debug_assert_eq!(sql.matches('?').count(), binds.len(), "{sql}");
        Prepared {
            sql,
            binds,
            row: PhantomData,
        }
    }
}

impl<ST> QueryId for Prepared<'_, ST> {
    type QueryId = ();
    // Cached by its text (and bind types), which is fixed.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST: SqlType> Query for Prepared<'_, ST> {
    type SqlType = ST;
}

impl<ST> QueryFragment<Pg> for Prepared<'_, ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut pieces = self.sql.split('?');
        out.push_sql(pieces.next().unwrap_or_default());
        for (bind, piece) in self.binds.iter().zip(pieces) {
            match bind {
                Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::Int(v) => out.push_bind_param::<Integer, _>(v)?,
                Bind::Bool(v) => out.push_bind_param::<Bool, _>(v)?,
                Bind::Text(v) => out.push_bind_param::<Text, _>(*v)?,
                Bind::NullableText(v) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                Bind::Timestamp(v) => out.push_bind_param::<Timestamp, _>(*v)?,
                Bind::Texts(v) => out.push_bind_param::<Array<Text>, _>(*v)?,
                Bind::Doubles(v) => out.push_bind_param::<Array<Double>, _>(*v)?,
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl<ST> RunQueryDsl<PgConnection> for Prepared<'_, ST> {}
