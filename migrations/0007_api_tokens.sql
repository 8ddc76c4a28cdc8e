-- The vendor API token cache, shared by every process (jimi-api.md §2: token-get is limited to
-- about once a minute, so processes must not each fetch their own).

CREATE TABLE ops.api_tokens (
    app_key         text PRIMARY KEY,
    access_token    text NOT NULL,
    refresh_token   text,
    expires_at      timestamptz NOT NULL,
    obtained_at     timestamptz NOT NULL DEFAULT now(),
    obtained_by     text
);
COMMENT ON TABLE ops.api_tokens IS
    'Current Open API token per app key. Refreshed before expiry under an advisory lock, so all processes share one token and token-get runs at most once a minute.';
