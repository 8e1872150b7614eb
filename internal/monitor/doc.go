// Package monitor watches what Phoenix serves: probes (HTTP(S) with
// Gatus-style conditions, TCP, DNS) on intervals or cron schedules, the
// edge's request telemetry and the host's cpu and memory, stored with
// rollups (raw 48 h, 1-minute 30 days, 1-hour 400 days) so SLA figures over
// a day, a month or a year come out right. Alert rules in the seed's shape
// move through pending, firing and resolved with thresholds against
// flapping, deduplication, grouping, repeat intervals, silences and
// maintenance windows, and every change is kept as history. Verify runs an
// environment's health checks after a deployment; the status page and
// SVG badges show the result to the public.
package monitor
