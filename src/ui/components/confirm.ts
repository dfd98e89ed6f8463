/**
 * Asking before anything the user made is discarded: `ask()` opens the app's one confirmation
 * dialog (components/ConfirmDialog.tsx) and resolves with the chosen action's key, or null when
 * the dialog is dismissed. Never window.confirm, which would block the page.
 */
import { create } from 'zustand';

export interface ConfirmAction {
  key: string;
  label: string;
  /** The action that discards something (shown as such). */
  danger?: boolean;
}

export interface ConfirmRequest {
  title: string;
  message: string;
  actions: ConfirmAction[];
}

interface ConfirmState {
  open: (ConfirmRequest & { resolve(key: string | null): void }) | null;
}

export const useConfirm = create<ConfirmState>(() => ({ open: null }));

export function ask(req: ConfirmRequest): Promise<string | null> {
  const prev = useConfirm.getState().open;
  prev?.resolve(null);
  return new Promise((resolve) => {
    useConfirm.setState({
      open: {
        ...req,
        resolve: (key) => {
          useConfirm.setState({ open: null });
          resolve(key);
        },
      },
    });
  });
}
