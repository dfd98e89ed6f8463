/** "Copy a link to this setup": the link, put on the clipboard when the browser allows, and shown to copy by hand. */
import { useState } from 'react';
import { useLab } from '../store';
import { shareLink } from './share';

export function ShareLink() {
  const backend = useLab((s) => s.backend);
  const [link, setLink] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  return (
    <>
      <button
        type="button"
        className="link"
        onClick={() => {
          const l = shareLink(backend);
          setLink(l);
          setCopied(false);
          navigator.clipboard?.writeText(l).then(
            () => setCopied(true),
            () => setCopied(false),
          );
        }}
      >
        Copy a link to this setup
      </button>
      {link && (
        <label className="field grow share">
          <span>{copied ? 'Copied to the clipboard:' : 'Link (copy it from here):'}</span>
          <input type="text" readOnly value={link} onFocus={(e) => e.currentTarget.select()} data-testid="share-link" />
        </label>
      )}
    </>
  );
}
