import type { ReactNode } from 'react';

/** A table wider than a narrow screen scrolls inside this region, not the page; the region
 * takes the focus (and has a name) so a keyboard can scroll it too. */
export default function Scroll({ label, children }: { label: string; children: ReactNode }) {
  return <div className="scroll" tabIndex={0} role="region" aria-label={label}>{children}</div>;
}
