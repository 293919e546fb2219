import * as vscode from 'vscode';
import { OpenAIProvider, validBaseUrl } from '../../core/labelling/openai-provider';
import type { JudgeProvider } from '../../core/labelling/provider';
import type { Config } from '../config';
import type { ApiKeyStore } from './api-key';
import { VsCodeLmProvider } from './vscode-lm-provider';

/** The judge of a job, from the user's settings (`rewardlens.judge.*`) and the key in SecretStorage. */

export type Judge =
  | {
      provider: JudgeProvider;
      /** The key, only to scrub it from anything logged (JudgeError messages never contain it anyway). */
      secret?: string;
    }
  | { problem: string; openSettings: boolean };

export async function createJudge(config: Config, keys: ApiKeyStore): Promise<Judge> {
  if (config.judgeProvider === 'vscode-lm') {
    const family = config.judgeVscodeLmFamily;
    const provider = await VsCodeLmProvider.select(family === undefined ? {} : { family });
    if (provider === undefined) {
      const problem =
        family === undefined
          ? vscode.l10n.t('no VS Code language model is available (install or sign in to a chat model extension, or change rewardlens.judge.vscodeLmFamily)')
          : vscode.l10n.t(
              'no VS Code language model of family "{0}" is available (install or sign in to a chat model extension, or change rewardlens.judge.vscodeLmFamily)',
              family,
            );
      return { problem, openSettings: true };
    }
    return { provider };
  }
  const baseUrl = config.judgeBaseUrl;
  const model = config.judgeModel;
  if (baseUrl === undefined || model === undefined) {
    return {
      problem: vscode.l10n.t(
        "set the judge's endpoint first: rewardlens.judge.baseUrl (an OpenAI-compatible URL) and rewardlens.judge.model, in your user settings",
      ),
      openSettings: true,
    };
  }
  if (!validBaseUrl(baseUrl)) return { problem: vscode.l10n.t('rewardlens.judge.baseUrl must be an http(s) URL, not "{0}"', baseUrl), openSettings: true };
  const secret = (await keys.get()) || undefined;
  const provider = new OpenAIProvider({ baseUrl, model, apiKey: secret, temperature: config.judgeTemperature, maxTokens: config.judgeMaxTokens });
  return { provider, secret };
}

/** `text` with every occurrence of the key replaced, before it is logged or shown. */
export function scrub(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}
