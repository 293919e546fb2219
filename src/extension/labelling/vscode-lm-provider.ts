import * as vscode from 'vscode';
import type { JudgeProvider, JudgeReply } from '../../core/labelling/provider';
import { JudgeError, MAX_REPLY_BYTES, replyTooLarge } from '../../core/labelling/provider';
import { errorMessage } from '../../core/error-message';

/**
 * The judge as one of VS Code's language models (Copilot or any extension that contributes one),
 * behind the same interface as the HTTP provider. VS Code asks the user's consent on first use.
 */
export class VsCodeLmProvider implements JudgeProvider {
  readonly id = 'vscode-lm';
  readonly model: string;

  private constructor(private readonly chat: vscode.LanguageModelChat) {
    this.model = `${chat.vendor}/${chat.id}`;
  }

  /** The first chat model matching `selector` (e.g. `{ family: 'gpt-4o' }`), or undefined. */
  static async select(selector: vscode.LanguageModelChatSelector): Promise<VsCodeLmProvider | undefined> {
    const [chat] = await vscode.lm.selectChatModels(selector);
    return chat ? new VsCodeLmProvider(chat) : undefined;
  }

  async complete(prompt: string, options: { signal?: AbortSignal }): Promise<JudgeReply> {
    const source = new vscode.CancellationTokenSource();
    const onAbort = (): void => source.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (options.signal?.aborted) throw new JudgeError('cancelled', 'cancelled', false);
      const response = await this.chat.sendRequest([vscode.LanguageModelChatMessage.User(prompt)], {}, source.token);
      let text = '';
      for await (const part of response.text) {
        text += part;
        if (text.length > MAX_REPLY_BYTES) {
          source.cancel();
          throw replyTooLarge(MAX_REPLY_BYTES);
        }
      }
      return { text, promptTokens: await this.chat.countTokens(prompt, source.token), completionTokens: await this.chat.countTokens(text, source.token) };
    } catch (e) {
      throw toJudgeError(e, options.signal);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      source.dispose();
    }
  }
}

function toJudgeError(e: unknown, signal: AbortSignal | undefined): JudgeError {
  if (e instanceof JudgeError) return e;
  if (signal?.aborted || e instanceof vscode.CancellationError) return new JudgeError('cancelled', 'cancelled', false);
  if (e instanceof vscode.LanguageModelError) {
    // NoPermissions / Blocked / NotFound will not change by retrying; anything else might.
    const fatal = ['NoPermissions', 'Blocked', 'NotFound'].includes(e.code);
    return new JudgeError(`language model: ${e.message} (${e.code})`, 'http', !fatal, fatal);
  }
  return new JudgeError(`language model: ${errorMessage(e)}`, 'network', true);
}
