// A TypeScript client built on the types openapi-typescript generates from openapi/openapi.json:
// it must compile with `tsc --noEmit --strict` (tests/clients/run). It builds a submission and
// reads an aggregate and a report, as a commune system or a dashboard would.
import type { components, paths } from "./api";

type Submission = components["schemas"]["ReportSubmission"];
type ReportOut = components["schemas"]["ReportOut"];
type AggregateList =
  paths["/api/v1/aggregates"]["get"]["responses"][200]["content"]["application/json"];
type Problem = components["schemas"]["Problem"];

export const submission: Submission = {
  dataset: "dmst-quarterly",
  period: "2026Q3",
  values: { dossiers_total: 120, dossiers_online_full: 96, staff_trained: null },
  comment: "Báo cáo quý III",
};

export function provinceValue(list: AggregateList): number | null | undefined {
  const first = list.items[0];
  return first === undefined ? undefined : first.value;
}

export function dossiers(report: ReportOut): number | undefined {
  return report.values["dossiers_total"];
}

export function scores(report: ReportOut): number[] {
  // A warning without spread has no score: the type says so.
  return report.warnings.flatMap((w) => (w.score === undefined ? [] : [w.score]));
}

export function firstProblem(p: Problem): string {
  return p.errors?.[0]?.field ?? p.detail;
}
