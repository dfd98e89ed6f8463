/**
 * The playground shell: engine and model on the left, generation and LoRA training in the main area. Starting the
 * engine is idempotent, so StrictMode's double effect creates one worker.
 */
import { useEffect } from 'react';
import { BackendPanel } from './engine/BackendPanel';
import { startEngine } from './engine/controller';
import { ErrorBox } from './engine/ErrorBox';
import { GeneratePanel } from './engine/GeneratePanel';
import { LoadProgress } from './engine/LoadProgress';
import { ModelSummaryCard } from './engine/ModelSummaryCard';
import { ResumeNotice } from './engine/ResumeNotice';
import { SourcePicker } from './engine/SourcePicker';
import { TrainPanel } from './train/TrainPanel';

export function App() {
  useEffect(() => {
    void startEngine();
  }, []);
  return (
    <div className="app">
      <header className="app-header">
        <h1>PMD Lab</h1>
        <span className="tagline">small-LLM playground · ONNX on WebGPU in a worker</span>
      </header>
      <div className="layout">
        <aside className="side">
          <BackendPanel />
          <ResumeNotice />
          <SourcePicker />
          <LoadProgress />
          <ModelSummaryCard />
        </aside>
        <main className="main">
          <ErrorBox />
          <GeneratePanel />
          <TrainPanel />
        </main>
      </div>
    </div>
  );
}
