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
  /** (datasetUri?, options?: TrainCommandOptions) — train a reward model (docs/training-ui.md); with options.method no questions. */
  Train = 'rewardlens.train',
  /** (run?: path | runs-view node) — resume a stopped run. */
  ResumeTraining = 'rewardlens.resumeTraining',
  /** (run?, testFileUri?) — agreement of a finished run with a test set's human preferences. */
  EvaluateRun = 'rewardlens.evaluateRun',
  /** (run?) — ask the run's training process to stop at its next step. */
  StopTraining = 'rewardlens.stopTraining',
  /** (run, phase?) — the training chart of a run. */
  ShowTrainingChart = 'rewardlens.showTrainingChart',
  /** (run) — the run's MODEL_CARD.md. */
  OpenModelCard = 'rewardlens.openModelCard',
  /** (run) — the run folder in the OS file manager. */
  RevealRun = 'rewardlens.revealRun',
  RefreshRuns = 'rewardlens.refreshRuns',
  /** A Python environment with the PyTorch trainer's requirements in global storage (docs/torch-trainer.md). */
  SetUpTorchTraining = 'rewardlens.setUpTorchTraining',
  InstallGpuBackend = 'rewardlens.installGpuBackend',
  InstallNativeBackend = 'rewardlens.installNativeBackend',
  /** (model?: path | Uri | null) — the reward model for CodeLens and hovers; null clears it; no argument asks. */
  SelectRewardModel = 'rewardlens.selectRewardModel',
  /** (datasetUri?, index?) — one record scored by the reward model; no index: the record at the cursor. */
  ShowRewardBreakdown = 'rewardlens.showRewardBreakdown',
  /** (datasetUri?, options?: { models?: string[] }) — each model's best-of-n pick against the human's best; no models: a quick pick. */
  ShowBestOfN = 'rewardlens.showBestOfN',
  /** (run?: path | runs-view node) — Table 3 of every run's eval.json, by test set, and the run's training curves. */
  ShowEvaluationReport = 'rewardlens.showEvaluationReport',
  /** (datasetUri?) — score the dataset with the reward model; the human pairs it orders the other way. */
  ShowDisagreements = 'rewardlens.showDisagreements',
  /** (options?: { port?: number; model?: string }) — `rewardlens serve` for the selected model; returns its URL. */
  StartRewardServer = 'rewardlens.startRewardServer',
  /** Stops the reward server (it answers requests in flight first). */
  StopRewardServer = 'rewardlens.stopRewardServer',
  /** (datasetUri?, index?) — a quick pick of the curation edits of a record (its CodeLens). */
  CurateRecord = 'rewardlens.curateRecord',
  /** (datasetUri?, index?, pair?: {a, b}) — flip the human preference (default: best against worst); an edits-journal line. */
  FlipPreference = 'rewardlens.flipPreference',
  /** (datasetUri?, index?, pair?: {a, b}) — mark responses tied (default: all). */
  MarkTie = 'rewardlens.markTie',
  /** (datasetUri?, index?, ranking?: number[]) — a new ranking of the responses (1 best); no ranking: an input box. */
  RerankResponses = 'rewardlens.rerankResponses',
  /** (datasetUri?, index?) — leave the record out of training, evaluation and exports. */
  DropRecord = 'rewardlens.dropRecord',
  /** (datasetUri?, index?, tag?: string) — tag the record; no tag: a quick pick. */
  TagRecord = 'rewardlens.tagRecord',
  /** (datasetUri?, index?, note?: string) — a note on the record; no note: an input box. */
  AddNote = 'rewardlens.addNote',
  /** (datasetUri?) — take back the dataset's last edit (a journal line, so it survives a restart). */
  UndoEdit = 'rewardlens.undoEdit',
  RedoEdit = 'rewardlens.redoEdit',
  /** (datasetUri?, options?: {out?, format?, edits?}) — the curated dataset as a new file. */
  ExportCuratedDataset = 'rewardlens.exportCuratedDataset',
  /** (datasetUri?, query?, options?: {action?: 'tag' | 'drop', tag?}) — records matching a filter query; bulk tag or drop. */
  FilterRecords = 'rewardlens.filterRecords',
}
