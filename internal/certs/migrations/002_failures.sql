-- Names whose certificate could not be obtained (the order failed: DNS not
-- pointing here, the CA refusing), shared by every server on the database
-- and kept across restarts, for the monitor's certificate-order-failing
-- alert: since the first failure in a row (Unix ms), how many attempts
-- failed, the CA's last error and when. A name's row goes when its
-- certificate is obtained or it is no longer served.
CREATE TABLE certs_failures (
    name       TEXT PRIMARY KEY,
    since      INTEGER NOT NULL,
    failures   INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    last_at    INTEGER NOT NULL
);
