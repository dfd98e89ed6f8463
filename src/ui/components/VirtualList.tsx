/**
 * A scrolling list that renders only the rows in view (@tanstack/react-virtual), with rows of
 * any height (each is measured once drawn). Long rollout, memory and event lists use it.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef, type ReactNode } from 'react';

export interface VirtualListProps<T> {
  items: readonly T[];
  keyOf(item: T): string;
  render(item: T, index: number): ReactNode;
  /** A guess of a row's height before it is measured. */
  estimate: number;
  className?: string;
  testId?: string;
  label?: string;
}

export function VirtualList<T>({ items, keyOf, render, estimate, className, testId, label }: VirtualListProps<T>) {
  const parent = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({
    count: items.length,
    getScrollElement: () => parent.current,
    estimateSize: () => estimate,
    overscan: 4,
    getItemKey: (i) => keyOf(items[i]),
  });
  return (
    <div ref={parent} className={`scroll-list ${className ?? ''}`} data-testid={testId} aria-label={label} role={label ? 'list' : undefined} tabIndex={label ? 0 : undefined}>
      <div style={{ height: v.getTotalSize(), position: 'relative' }}>
        {v.getVirtualItems().map((row) => (
          <div key={row.key} data-index={row.index} ref={v.measureElement} className="virtual-row" style={{ transform: `translateY(${row.start}px)` }} role={label ? 'listitem' : undefined}>
            {render(items[row.index], row.index)}
          </div>
        ))}
      </div>
    </div>
  );
}
