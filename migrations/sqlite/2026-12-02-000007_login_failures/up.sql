-- Failed sign-ins per username and source address, shared by every replica: after a few
-- failures from one source, that source waits longer and longer before it may try that username
-- again. Keyed by both, so a stranger who guesses never locks the owner out; a successful sign-in
-- clears its row.
CREATE TABLE login_failures (
    username      TEXT NOT NULL,
    source        TEXT NOT NULL,
    failures      INTEGER NOT NULL,
    last_failure  TIMESTAMP NOT NULL,
    blocked_until TIMESTAMP,
    PRIMARY KEY (username, source)
);
