/** Every command the extension registers; package.json `contributes.commands` lists the public ones. */
export const enum CommandId {
  OpenDataset = 'rewardlens.openDataset',
  ShowOverview = 'rewardlens.showOverview',
  BrowseRecords = 'rewardlens.browseRecords',
  Reindex = 'rewardlens.reindex',
  ShowOutput = 'rewardlens.showOutput',
  /** (datasetUri: string, index: number) — the record browser at a record (CodeLens, hover). */
  OpenRecord = 'rewardlens.openRecord',
  /** (datasetUri: string, index: number) — a record as a read-only JSON document. */
  ShowRecordJson = 'rewardlens.showRecordJson',
  /** (datasetUri?, options?: LabelCommandOptions) — label capability points with the judge (docs/labelling.md). */
  LabelCapabilities = 'rewardlens.labelCapabilities',
  /** (datasetUri?) — the label report of a dataset's store. */
  ShowLabelReport = 'rewardlens.showLabelReport',
  /** (datasetUri?, options?: { source?: string }) — capability labels from a rating source of the dataset. */
  LabelsFromRatings = 'rewardlens.labelsFromRatings',
  SetJudgeApiKey = 'rewardlens.setJudgeApiKey',
  ClearJudgeApiKey = 'rewardlens.clearJudgeApiKey',
}
