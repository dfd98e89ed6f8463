/** The app's confirmation dialog (a modal <dialog>: focus stays inside, Escape cancels). */
import { useEffect, useRef } from 'react';
import { useConfirm } from './confirm';

export function ConfirmDialog() {
  const open = useConfirm((s) => s.open);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="confirm" aria-labelledby="confirm-title" onCancel={() => open?.resolve(null)} data-testid="confirm">
      {open && (
        <>
          <h2 id="confirm-title">{open.title}</h2>
          <p>{open.message}</p>
          <div className="row end">
            <button type="button" className="secondary" onClick={() => open.resolve(null)}>
              Cancel
            </button>
            {open.actions.map((a) => (
              <button key={a.key} type="button" className={a.danger ? 'danger' : undefined} onClick={() => open.resolve(a.key)}>
                {a.label}
              </button>
            ))}
          </div>
        </>
      )}
    </dialog>
  );
}
