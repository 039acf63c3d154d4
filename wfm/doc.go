// Package wfm holds Starpost's pure workforce-management engines: demand
// forecasting per interval (with an events calendar and rolling-origin
// method selection), handle-time forecasting, staffing with Erlang C and
// Erlang A (impatient customers), chat concurrency and shrinkage, a seeded
// discrete-event simulation that validates the queueing formulas, and CSV
// helpers for planners who work in spreadsheets.
//
// Nothing in this package performs network or database I/O; readers and
// writers are passed in, and evaluation reads public data by path.
package wfm
