/**
 * The playground shell: engine and model on the left, generation and LoRA training in the main area. Starting the
 * engine is idempotent, so StrictMode's double effect creates one worker.
 */
import { useEffect } from 'react';
import { BackendPanel } from './model/BackendPanel';
import { startEngine } from './model/controller';
import { ErrorBox } from './components/ErrorBox';
import { GeneratePanel } from './generate/GeneratePanel';
import { LoadProgress } from './model/LoadProgress';
import { ModelSummaryCard } from './model/ModelSummaryCard';
import { ResumeNotice } from './model/ResumeNotice';
import { SourcePicker } from './model/SourcePicker';
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
