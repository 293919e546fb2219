import type { DisagreementFilter, DisagreementRow } from '../../core/scoring/disagreements';
import type { DisagreementsSummary, DisagreementView, PageQuery } from '../../../webview/disagreements-protocol';
import type { CurvesData, ReportData } from '../../../webview/evaluation-report-protocol';
import { DisagreementsPanel } from './disagreements-panel';
import { EvaluationReportPanel } from './evaluation-report-panel';

/** Test hooks of the analysis views (main.ts `TestingApi.analysis`): what they posted, and what a click would do. */
export interface AnalysisTesting {
  /** What the evaluation report last posted (table and curves); undefined when it is closed. */
  evaluationReport(): { data?: ReportData; curves?: CurvesData } | undefined;
  /** The disagreement explorer's state: all rows (host side), the summary and the page last posted. */
  disagreements(): { summary?: DisagreementsSummary; rows: readonly DisagreementRow[]; page?: { query: PageQuery; total: number; rows: DisagreementView[] } } | undefined;
  /** What the webview's filters and pager ask for: the page is posted, and returned. */
  disagreementsPage(query: PageQuery): { query: PageQuery; total: number; rows: DisagreementView[] } | undefined;
  /** A click on the line of row `row` (of all rows, in order). */
  revealDisagreement(row: number): Promise<void>;
  /** The Export button without its save dialog; resolves with the number of lines written. */
  exportDisagreements(file: string, filter?: DisagreementFilter): Promise<number>;
}

export function analysisTesting(): AnalysisTesting {
  return {
    evaluationReport: () => {
      const p = EvaluationReportPanel.current;
      return p ? { data: p.lastData, curves: p.lastCurves } : undefined;
    },
    disagreements: () => {
      const p = DisagreementsPanel.current;
      return p ? { summary: p.summary, rows: p.rows, page: p.lastPage } : undefined;
    },
    disagreementsPage: (query) => DisagreementsPanel.current?.sendPage(query),
    revealDisagreement: async (row) => {
      const p = DisagreementsPanel.current;
      const r = p?.rows[row];
      if (p === undefined || r === undefined) throw new Error(`no disagreement row ${row}`);
      await p.reveal(r.line);
    },
    exportDisagreements: (file, filter) => {
      const p = DisagreementsPanel.current;
      return p ? p.exportTo(file, filter) : Promise.reject(new Error('the disagreement explorer is not open'));
    },
  };
}
