// Package quality inspects every resolved conversation automatically and
// supports the people who review the results.
//
// Inspect is a pure function from a conversation's events to a Report:
// timing findings with their exact moments (first response, every wait
// with SLA breaches, slow replies, ignored customers, vanished agents),
// greeting and closing present, required disclosures, forbidden phrases and
// patterns, empathy towards a customer the emotion engine found angry,
// answers beside the question (see relevance.go for the method and its
// measurement), resolution confirmed and customer satisfaction (csat
// events); and a score from 0 to 100 from a weighted scorecard with
// auto-fail items (Score). Rules, phrases (Chinese and English) and the
// scorecard are a Config with defaults (DefaultConfig), validated; a
// workspace may save its own (ConfigDoc, Store.SaveWorkspaceConfig).
//
// Engine runs Inspect on every resolution (a state event to resolved, or to
// closed straight from an open state, see Ending) and on every csat rating
// under an engine.Runner, and writes one qa.finding event per finding,
// linked to the seq of the message it is about, and one qa.score event.
//
// Store owns the package's tables (schema_sqlite.sql, schema_postgres.sql):
// Indexer, a second engine that adds no events, keeps one scorecard row per
// qa.score; supervisors list and filter them, open one with its transcript
// and findings (Detail), and review it (SaveReview: item overrides with
// comments, the final score recomputed, every change recorded). Agreement
// reports Cohen's kappa between automatic and human item results;
// Dashboard gives per-day figures per agent, team or site.
package quality
