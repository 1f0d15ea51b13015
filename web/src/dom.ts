/**
 * A few DOM helpers: elements are built with properties and textContent only (no innerHTML),
 * so nothing the API or the user sends can become markup, and no inline script or style is needed.
 */
export type Child = Node | string | null | undefined | false;

type Props<K extends keyof HTMLElementTagNameMap> = Partial<Omit<HTMLElementTagNameMap[K], 'style'>> & {
  /** Attributes that are not plain properties: aria-*, data-*, for, autocomplete... */
  attrs?: Record<string, string | undefined>;
};

let nextId = 0;

/** A unique id for label/field and aria-describedby pairs. */
export function uniqueId(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props<K> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  const { attrs, ...properties } = props;
  Object.assign(element, properties);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value !== undefined) element.setAttribute(name, value);
  }
  element.append(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false));
  return element;
}

export function button(label: string, onClick: (event: MouseEvent) => void, options: { variant?: 'primary' | 'secondary' | 'danger' | 'link'; type?: 'button' | 'submit' } = {}): HTMLButtonElement {
  const element = h('button', { type: options.type ?? 'button', className: `button button-${options.variant ?? 'secondary'}` }, label);
  element.addEventListener('click', onClick);
  return element;
}

export interface Field {
  wrapper: HTMLDivElement;
  input: HTMLInputElement;
  /**
   * Shows `message` next to the field and marks it invalid (or clears both). The words are also
   * announced through the page's alert region; here they stay in sight and in the field's description.
   */
  setError(message: string | undefined): void;
}

/** A labelled text input with an optional hint, wired with for/id and aria-describedby. */
export function textField(options: {
  label: string;
  hint?: string;
  autocomplete?: string;
  inputMode?: string;
  spellcheck?: boolean;
  autocapitalize?: string;
  maxLength?: number;
  className?: string;
}): Field {
  const id = uniqueId('field');
  const hintId = options.hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  const error = h('p', { id: errorId, className: 'field-error', hidden: true });
  const input = h('input', {
    id,
    type: 'text',
    name: id,
    className: `input ${options.className ?? ''}`.trim(),
    spellcheck: options.spellcheck ?? false,
    ...(options.maxLength ? { maxLength: options.maxLength } : {}),
    attrs: {
      autocomplete: options.autocomplete ?? 'off',
      inputmode: options.inputMode,
      autocapitalize: options.autocapitalize ?? 'off',
      'aria-describedby': hintId,
    },
  });
  const wrapper = h(
    'div',
    { className: 'field' },
    h('label', { htmlFor: id, className: 'label' }, options.label),
    options.hint ? h('p', { id: hintId, className: 'hint' }, options.hint) : null,
    error,
    input,
  );
  return {
    wrapper,
    input,
    setError: (message) => {
      error.textContent = message ?? '';
      error.hidden = !message;
      const describedBy = [message ? errorId : undefined, hintId].filter(Boolean).join(' ');
      if (describedBy) input.setAttribute('aria-describedby', describedBy);
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

/** A time of day in the user's locale, e.g. "14:05" or, with seconds, "14:05:30". */
export function timeOfDay(date: Date, options: { seconds?: boolean } = {}): string {
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', ...(options.seconds ? { second: '2-digit' } : {}) });
}

export function dateAndTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
