/**
 * LiveCodeBench code-generation rows as published: `question_id`, `question_title`,
 * `question_content`, `starter_code`, `public_test_cases` (a JSON string of
 * `[{input, output, testtype: "stdin" | "functional"}]`), `private_test_cases` (the same list,
 * either as JSON text or as base64 of zlib of a Python pickle of the JSON text), `difficulty`,
 * `platform`, `contest_id`, `contest_date` and `metadata` (a JSON string, `func_name` for
 * functional problems).
 *
 * Split (as PMD-SPEC asks): the public tests are the training tests, whose failures feed back to
 * the teacher; the private tests are held out. `source.test_split` records it.
 *
 * Functional tests call `Solution().<func_name>(*args)`, each line of `input` being one
 * JSON-encoded argument and `output` the JSON-encoded result. The method name is
 * `metadata.func_name`, else the first method of `class Solution` in the starter code. Every
 * task gets a `setup` with the imports LiveCodeBench solutions assume (typing names and the
 * common collections/heap/bisect/itertools/functools helpers).
 */
import { unzlibSync } from 'fflate';
import { isRecord } from '../../util/records';
import type { RowContext, RowResult } from './import-row';
import type { ProblemSink } from './problems';
import { shown } from './problems';
import { unpickleString } from './python-pickle';
import { jsonTextField, nonEmptyStringField, stringField } from './source-fields';
import type { CodeAnswer, CodeTest, TestSplit } from './types';

export const LIVECODEBENCH_SETUP = [
  'from typing import *',
  'from collections import *',
  'from heapq import *',
  'from bisect import *',
  'from itertools import *',
  'from functools import *',
  'import math, string, re, sys, collections, heapq, bisect, itertools, functools',
].join('\n');

interface LcbTest {
  input: string;
  output: string;
  testtype: 'stdin' | 'functional';
}

export function liveCodeBenchRow(row: Record<string, unknown>, { split, sink }: RowContext): RowResult {
  const qid = nonEmptyStringField(row, 'question_id', sink);
  const content = nonEmptyStringField(row, 'question_content', sink);
  const starter = row.starter_code === undefined ? '' : stringField(row, 'starter_code', sink);
  const publicTests = testList(jsonTextField(row, 'public_test_cases', sink, 'a list of {input, output, testtype}'), sink.at('public_test_cases'));
  const privateTests = testList(decodePrivateTests(row.private_test_cases, sink.at('private_test_cases')), sink.at('private_test_cases'));
  const metadata = row.metadata === undefined ? {} : jsonTextField(row, 'metadata', sink, 'an object such as {"func_name": "..."}');
  if (metadata !== undefined && !isRecord(metadata)) sink.at('metadata').report(`must hold a JSON object, got ${shown(metadata)}`);
  if (qid === undefined || content === undefined || starter === undefined || !publicTests || !privateTests || !isRecord(metadata)) return null;
  if (publicTests.length === 0) return { skip: 'no public tests to train on' };

  const answer: CodeAnswer = { kind: 'code', language: 'python', tests: [], setup: LIVECODEBENCH_SETUP };
  if (starter.trim() !== '') answer.starter = starter;
  const functional = [...publicTests, ...privateTests].some((t) => t.testtype === 'functional');
  if (functional) {
    const fromMeta = typeof metadata.func_name === 'string' ? metadata.func_name : undefined;
    const name = fromMeta ?? /class\s+Solution\b[\s\S]*?def\s+([A-Za-z_]\w*)\s*\(\s*self/.exec(starter)?.[1];
    if (!name) {
      sink.at('metadata').report('has no "func_name" and the starter code has no method of class Solution: functional tests need one');
      return null;
    }
    answer.entry_point = name;
    if (/class\s+Solution\b/.test(starter) || !fromMeta) answer.class_name = 'Solution';
  }
  const before = sink.problems.length;
  const convert = (list: LcbTest[], s: TestSplit, field: string) =>
    list.forEach((t, i) => {
      const test = convertTest(t, s, sink.at(field).at(i));
      if (test) answer.tests.push(test);
    });
  convert(publicTests, 'train', 'public_test_cases');
  convert(privateTests, 'heldout', 'private_test_cases');
  if (sink.problems.length > before) return null;

  const meta: Record<string, unknown> = {};
  for (const k of ['question_title', 'platform', 'difficulty', 'contest_id', 'contest_date'] as const) {
    if (typeof row[k] === 'string') meta[k === 'question_title' ? 'title' : k] = row[k];
  }
  return {
    id: `livecodebench-${qid}`,
    split,
    domain: 'code',
    problem: content,
    answer,
    source: { format: 'livecodebench', id: qid, test_split: { train: 'public_test_cases', heldout: 'private_test_cases' } },
    meta,
  };
}

/** `private_test_cases`: JSON text, or base64(zlib(pickle(JSON text))). */
export function decodePrivateTests(raw: unknown, sink: ProblemSink): unknown {
  if (typeof raw !== 'string') {
    sink.report(raw === undefined ? 'is missing (expected a string)' : `must be a string, got ${shown(raw)}`);
    return undefined;
  }
  try {
    return JSON.parse(raw);
  } catch {
    // not plain JSON: the compressed form
  }
  try {
    const bytes = Uint8Array.from(atob(raw.trim()), (c) => c.charCodeAt(0));
    return JSON.parse(unpickleString(unzlibSync(bytes)));
  } catch (e) {
    sink.report(`is neither JSON nor base64 of zlib of a pickled JSON string (${(e as Error).message})`);
    return undefined;
  }
}

function testList(v: unknown, sink: ProblemSink): LcbTest[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) {
    sink.report(`must hold a list of {input, output, testtype}, got ${shown(v)}`);
    return undefined;
  }
  const before = sink.problems.length;
  v.forEach((t: unknown, i: number) => {
    if (!isRecord(t) || typeof t.input !== 'string' || typeof t.output !== 'string' || (t.testtype !== 'stdin' && t.testtype !== 'functional')) {
      sink.at(i).report(`must be {"input": string, "output": string, "testtype": "stdin" | "functional"}, got ${shown(t)}`);
    }
  });
  return sink.problems.length > before ? undefined : (v as LcbTest[]);
}

function convertTest(t: LcbTest, split: TestSplit, sink: ProblemSink): CodeTest | null {
  const s = split === 'heldout' ? { split } : {};
  if (t.testtype === 'stdin') return { kind: 'io', input: t.input, output: t.output, ...s };
  const args: unknown[] = [];
  const lines = t.input.split('\n');
  while (lines.length > 1 && lines[lines.length - 1].trim() === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    try {
      args.push(JSON.parse(line));
    } catch {
      sink.at('input').report(`line ${i + 1} of a functional test's input is not JSON: ${shown(line)}`);
      return null;
    }
  }
  try {
    return { kind: 'call', args, expected: JSON.parse(t.output), ...s };
  } catch {
    sink.at('output').report(`a functional test's output is not JSON: ${shown(t.output)}`);
    return null;
  }
}
