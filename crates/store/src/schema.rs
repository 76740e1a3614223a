//! The one diesel schema, shared by PostgreSQL and SQLite (the migrations of both backends
//! create the same tables with each dialect's types). Instants are UTC `Timestamp`s.

diesel::table! {
    provinces (code) {
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        division_type -> Text,
        codename -> Text,
    }
}

diesel::table! {
    communes (code) {
        code -> Text,
        province_code -> Text,
        name_vi -> Text,
        name_en -> Text,
        division_type -> Text,
        codename -> Text,
    }
}

diesel::table! {
    datasets (code) {
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        period_type -> Text,
        deadline_rule -> Text,
        lock_rule -> Text,
        description_vi -> Text,
        description_en -> Text,
        position -> Integer,
    }
}

diesel::table! {
    indicators (code) {
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        unit_vi -> Text,
        unit_en -> Text,
        value_type -> Text,
        dataset_code -> Nullable<Text>,
        temporal_rule -> Nullable<Text>,
        spatial_rule -> Nullable<Text>,
        formula -> Nullable<Text>,
        at_most -> Nullable<Text>,
        position -> Integer,
    }
}

diesel::table! {
    index_pillars (code) {
        code -> Text,
        sub_index -> Text,
        name_vi -> Text,
        name_en -> Text,
        position -> Integer,
    }
}

diesel::table! {
    index_pillar_indicators (pillar_code, indicator_code) {
        pillar_code -> Text,
        indicator_code -> Text,
        weight -> Double,
        direction -> Text,
        position -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        province_code -> Nullable<Text>,
        commune_code -> Nullable<Text>,
        display_name -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        username_key -> Nullable<Text>,
        token_version -> Integer,
        updated_at -> Nullable<Timestamp>,
        email -> Nullable<Text>,
        language -> Text,
        reminders -> Bool,
    }
}

diesel::table! {
    reports (id) {
        id -> BigInt,
        dataset_code -> Text,
        period -> Text,
        commune_code -> Text,
        current_revision -> Integer,
        status -> Text,
        first_received_at -> Timestamp,
        updated_at -> Timestamp,
        reopened -> Bool,
        current_values -> Text,
        tx -> Nullable<BigInt>,
    }
}

diesel::table! {
    revisions (id) {
        id -> BigInt,
        report_id -> BigInt,
        number -> Integer,
        author -> Text,
        received_at -> Timestamp,
        comment -> Nullable<Text>,
        tx -> Nullable<BigInt>,
    }
}

diesel::table! {
    revision_values (revision_id, indicator_code) {
        revision_id -> BigInt,
        indicator_code -> Text,
        value -> Nullable<Double>,
    }
}

diesel::table! {
    targets (year, commune_code, indicator_code) {
        year -> Integer,
        commune_code -> Text,
        indicator_code -> Text,
        value -> Double,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::joinable!(communes -> provinces (province_code));
diesel::joinable!(indicators -> datasets (dataset_code));
diesel::joinable!(index_pillar_indicators -> index_pillars (pillar_code));
diesel::joinable!(index_pillar_indicators -> indicators (indicator_code));
diesel::joinable!(reports -> communes (commune_code));
diesel::joinable!(reports -> datasets (dataset_code));
diesel::joinable!(revisions -> reports (report_id));
diesel::joinable!(revision_values -> revisions (revision_id));
diesel::joinable!(revision_values -> indicators (indicator_code));
diesel::joinable!(targets -> communes (commune_code));
diesel::joinable!(targets -> indicators (indicator_code));

diesel::table! {
    report_reviews (id) {
        id -> BigInt,
        report_id -> BigInt,
        action -> Text,
        actor -> Text,
        comment -> Nullable<Text>,
        revision -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    server_settings (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    change_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        province_code -> Nullable<Text>,
        commune_code -> Nullable<Text>,
        subject -> Text,
        detail -> Text,
    }
}

diesel::table! {
    report_openings (dataset_code, period, commune_code) {
        dataset_code -> Text,
        period -> Text,
        commune_code -> Text,
        actor -> Text,
        comment -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (username, source) {
        username -> Text,
        source -> Text,
        failures -> Integer,
        last_failure -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    integration_keys (id) {
        id -> BigInt,
        public_id -> Text,
        name -> Text,
        province_code -> Nullable<Text>,
        secret_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
    }
}

diesel::table! {
    document_settings (unit) {
        unit -> Text,
        province_code -> Text,
        signer -> Nullable<Text>,
        signer_title -> Nullable<Text>,
        recipients -> Nullable<Text>,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        province_code -> Text,
        commune_code -> Nullable<Text>,
        url -> Text,
        secret -> Text,
        language -> Text,
        reminders -> Bool,
        created_by -> Text,
        created_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
        removed_by -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        dedup -> Text,
        idempotency_key -> Text,
        kind -> Text,
        channel -> Text,
        recipient -> Text,
        webhook_id -> Nullable<BigInt>,
        province_code -> Text,
        commune_code -> Nullable<Text>,
        message -> Text,
        created_at -> Timestamp,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(report_reviews -> reports (report_id));

diesel::table! {
    plans (id) {
        id -> BigInt,
        owner -> Text,
        unit -> Text,
        province_code -> Text,
        first_year -> Integer,
        last_year -> Integer,
        revision -> Integer,
        status -> Text,
        body -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    plan_revisions (plan_id, number) {
        plan_id -> BigInt,
        number -> Integer,
        action -> Text,
        author -> Text,
        at -> Timestamp,
        comment -> Nullable<Text>,
        status -> Text,
        body -> Text,
    }
}

diesel::table! {
    report_progress (report_id, revision) {
        report_id -> BigInt,
        revision -> Integer,
        body -> Text,
    }
}

diesel::joinable!(plan_revisions -> plans (plan_id));
diesel::joinable!(report_progress -> reports (report_id));

diesel::allow_tables_to_appear_in_same_query!(
    provinces,
    communes,
    datasets,
    indicators,
    index_pillars,
    index_pillar_indicators,
    users,
    reports,
    revisions,
    revision_values,
    targets,
    report_reviews,
    server_settings,
    change_log,
    report_openings,
    login_failures,
    integration_keys,
    document_settings,
    plans,
    plan_revisions,
    report_progress,
    webhooks,
    outbox,
);
