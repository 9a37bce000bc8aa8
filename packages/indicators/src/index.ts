export type { IndicatorErrorCode, IndicatorErrorDetails } from './errors.js';
export { IndicatorError } from './errors.js';
export type { NotText } from './import/binary-sniff.js';
export { assertTextFile, notTextReason } from './import/binary-sniff.js';
export { CHAT_COMPLETIONS_URL, chatRecord, MAX_CHAT_LINE_LENGTH, readChat } from './import/chat.js';
export { chatLineShape } from './import/chat-line-shape.js';
export type { CsvOptions } from './import/csv.js';
export { CSV_COLUMNS, readCsv } from './import/csv.js';
export type { FormatChoice, FormatSource } from './import/format-detection.js';
export { chooseImportFormat, FORMAT_SNIFF_BYTES, formatOfContent } from './import/format-detection.js';
export type { ImportFormat } from './import/formats.js';
export {
  formatFromPath,
  formatOfExtension,
  IMPORT_FORMATS,
  parseImportFormat,
  readRecords,
} from './import/formats.js';
export { MAX_CONTEXT_BYTES, readJsonl } from './import/jsonl.js';
export { MAX_LINE_LENGTH, numberedLines, readPlainLines, utf8Strings } from './import/lines.js';
export type { NormalizeOptions, NormalizeSummary } from './import/normalize.js';
export { emptySummary, normalizeRecords } from './import/normalize.js';
export type {
  AcceptedRecord,
  NormalizedRecord,
  RawErrorRecord,
  RawIndicatorRecord,
  RawRecord,
  RecordError,
  TextSource,
} from './import/record.js';
export { isErrorRecord } from './import/record.js';
export { readStix } from './import/stix.js';
export type { PatternValue } from './import/stix-pattern.js';
export { parseStixPattern } from './import/stix-pattern.js';
export type { CanonicalizeOptions, IndicatorKind, KindCounterExample, KindExample } from './kind.js';
export type { IndicatorKindName } from './kind-names.js';
export { INDICATOR_KIND_NAMES, isIndicatorKindName, parseIndicatorKindName } from './kind-names.js';
export { DEFAULT_PREFIX_LENGTH, deriveIpPrefix } from './kinds/ip-prefix.js';
export { deriveRegistrableDomain, registrableDomainOf } from './kinds/registrable-domain.js';
export { canonicalize, getIndicatorKind, INDICATOR_KINDS } from './kinds.js';
export type { MinHashParameters } from './prompt/minhash.js';
export {
  impliedJaccard,
  MINHASH_PRIME,
  minHashRows,
  PROMPT_TEMPLATE_PARAMETERS,
  promptBands,
  promptShingles,
  promptSignature,
  sharedBands,
  shingleHash,
  signatureBands,
} from './prompt/minhash.js';
export { normalizePromptText, PLACEHOLDERS, promptTokens } from './prompt/prompt-text.js';
export type { PromptTemplate } from './prompt/template-collector.js';
export { COLLAPSE_OPTIONS, type CollapseOptions, TemplateCollector } from './prompt/template-collector.js';
export { RULE_DATA, RULE_DEPENDENCIES } from './rule-dependencies.js';
export { TRIMMED_CODE_POINTS } from './text.js';
