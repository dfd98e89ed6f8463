// Worker thread of tokenizer-node.ts: builds the tokenizer from workerData, then answers one
// request at a time. The parent terminates this thread when a request runs past its time limit.

import { parentPort, workerData } from 'node:worker_threads';
import { createTokenizer, encodeText, renderChatTemplate } from './tokenizer-calls.mjs';

const message = (e) => (e instanceof Error ? e.message : String(e));

let tok = null;
try {
  tok = createTokenizer(workerData.tokenizerJson, workerData.tokenizerConfig);
  parentPort.postMessage({ ready: true });
} catch (e) {
  parentPort.postMessage({ loadError: message(e) });
}

parentPort.on('message', (req) => {
  try {
    if (req.op === 'template') {
      parentPort.postMessage(renderChatTemplate(tok, req.messages, req.addGenerationPrompt, workerData.templateChars));
    } else {
      parentPort.postMessage({ ids: encodeText(tok, req.text, req.addSpecialTokens) });
    }
  } catch (e) {
    parentPort.postMessage({ error: message(e) });
  }
});
