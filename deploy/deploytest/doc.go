// Package deploytest holds no code of its own: its tests keep the
// deployment and operations files honest against the code they describe.
//
//   - deploy/grafana/binlake.json and deploy/prometheus/alerts.yaml: every
//     PromQL expression names only metrics (and their labels) that
//     internal/metrics registers, applies rate() only to counters and
//     histogram series, and histogram_quantile() only to _bucket series.
//   - deploy/k8s/*.yaml: kinds and references between the objects, worker
//     environment variables that are real worker flags, probe and scrape
//     paths that are real REST routes, the REST port, the data directory,
//     the image's entrypoint and user (deploy/Dockerfile), and example
//     connector configs whose keys exist in docs/config.md.
//   - docs/troubleshooting.md and docs/operations.md: every error message
//     quoted in a "binlake-error" block still appears verbatim in the Go
//     sources, every curl call uses a real route, and the worker flag table
//     lists every flag.
package deploytest
