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
}
