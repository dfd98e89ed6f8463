import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { installDebugHandle } from './ui/debug';
import './ui/recovery';
import './ui/styles.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

installDebugHandle();

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
