// The organizer's correction of the summary: the overview, and decisions, action items (owner, task, due)
// and open questions as lists to edit, add to and remove from. Key points and chapters go back as read.
import { Button, Field, Input, makeStyles, Subtitle1, Textarea, tokens } from "@fluentui/react-components";
import { useState, type FormEvent, type ReactNode } from "react";

import type { Summary, SummaryEdit } from "./recordingApi";

const useStyles = makeStyles({
  form: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalL },
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  heading: { display: "block" },
  list: {
    listStyleType: "none",
    margin: 0,
    padding: 0,
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalS,
  },
  row: { display: "flex", flexWrap: "wrap", alignItems: "end", gap: tokens.spacingHorizontalS },
  grow: { flexGrow: 1, minWidth: "12rem" },
  actions: { display: "flex", gap: tokens.spacingHorizontalS },
});

type Note = Summary["decisions"][number];
type Action = Summary["actionItems"][number];

/** The form's state: the summary's editable parts, items keeping their evidence (checked again on save). */
export interface Draft {
  overview: string;
  decisions: Note[];
  actionItems: Action[];
  openQuestions: Note[];
}

export function draftOf(summary: Summary): Draft {
  return {
    overview: summary.overview,
    decisions: summary.decisions,
    actionItems: summary.actionItems,
    openQuestions: summary.openQuestions,
  };
}

/** What PUT .../summary gets: blank items left out (the server wants text), blank owner or due as null. */
export function editBody(draft: Draft, summary: Summary): SummaryEdit {
  const notes = (items: Note[]) =>
    items.map((item) => ({ ...item, text: item.text.trim() })).filter((item) => item.text !== "");
  return {
    overview: draft.overview.trim(),
    keyPoints: summary.keyPoints,
    decisions: notes(draft.decisions),
    actionItems: draft.actionItems
      .map((item) => ({
        ...item,
        task: item.task.trim(),
        owner: item.owner?.trim() || null,
        due: item.due?.trim() || null,
      }))
      .filter((item) => item.task !== ""),
    chapters: summary.chapters,
    openQuestions: notes(draft.openQuestions),
  };
}

const newNote = (): Note => ({ text: "", evidence: [], unverified: true });
const newAction = (): Action => ({ owner: null, task: "", due: null, evidence: [], unverified: true });

export interface SummaryEditorProps {
  summary: Summary;
  saving: boolean;
  onSave: (body: SummaryEdit) => void;
  onCancel: () => void;
}

export function SummaryEditor({ summary, saving, onSave, onCancel }: SummaryEditorProps) {
  const styles = useStyles();
  const [draft, setDraft] = useState(() => draftOf(summary));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSave(editBody(draft, summary));
  };

  const change = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setDraft((current) => ({ ...current, [key]: value }));
  };

  return (
    <form className={styles.form} aria-label="Edit the summary" onSubmit={submit}>
      <Field label="Overview">
        <Textarea
          value={draft.overview}
          resize="vertical"
          rows={5}
          maxLength={20000}
          onChange={(_, data) => {
            change("overview", data.value);
          }}
        />
      </Field>

      <NoteList
        title="Decisions"
        noun="decision"
        items={draft.decisions}
        onChange={(items) => {
          change("decisions", items);
        }}
      />

      <EditSection title="Action items">
        <ol className={styles.list}>
          {draft.actionItems.map((item, i) => {
            const set = (fields: Partial<Action>) => {
              change(
                "actionItems",
                draft.actionItems.map((other, j) => (j === i ? { ...other, ...fields } : other)),
              );
            };
            return (
              <li key={i} className={styles.row}>
                <Field label={`Owner ${i + 1}`}>
                  <Input
                    value={item.owner ?? ""}
                    onChange={(_, data) => {
                      set({ owner: data.value });
                    }}
                  />
                </Field>
                <Field label={`Task ${i + 1}`} className={styles.grow}>
                  <Input
                    value={item.task}
                    onChange={(_, data) => {
                      set({ task: data.value });
                    }}
                  />
                </Field>
                <Field label={`Due ${i + 1}`}>
                  <Input
                    value={item.due ?? ""}
                    onChange={(_, data) => {
                      set({ due: data.value });
                    }}
                  />
                </Field>
                <Button
                  onClick={() => {
                    change(
                      "actionItems",
                      draft.actionItems.filter((_, j) => j !== i),
                    );
                  }}
                >
                  Remove action item {i + 1}
                </Button>
              </li>
            );
          })}
        </ol>
        <div>
          <Button
            onClick={() => {
              change("actionItems", [...draft.actionItems, newAction()]);
            }}
          >
            Add action item
          </Button>
        </div>
      </EditSection>

      <NoteList
        title="Open questions"
        noun="open question"
        items={draft.openQuestions}
        onChange={(items) => {
          change("openQuestions", items);
        }}
      />

      <div className={styles.actions}>
        <Button type="submit" appearance="primary" disabled={saving}>
          Save
        </Button>
        <Button disabled={saving} onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function EditSection({ title, children }: { title: string; children: ReactNode }) {
  const styles = useStyles();
  return (
    <fieldset className={styles.section} style={{ border: "none", padding: 0, margin: 0 }}>
      <legend>
        <Subtitle1 as="h2" className={styles.heading}>
          {title}
        </Subtitle1>
      </legend>
      {children}
    </fieldset>
  );
}

function NoteList({
  title,
  noun,
  items,
  onChange,
}: {
  title: string;
  noun: string;
  items: Note[];
  onChange: (items: Note[]) => void;
}) {
  const styles = useStyles();
  const label = noun.charAt(0).toUpperCase() + noun.slice(1);
  return (
    <EditSection title={title}>
      <ol className={styles.list}>
        {items.map((item, i) => (
          <li key={i} className={styles.row}>
            <Field label={`${label} ${i + 1}`} className={styles.grow}>
              <Input
                value={item.text}
                onChange={(_, data) => {
                  onChange(items.map((other, j) => (j === i ? { ...other, text: data.value } : other)));
                }}
              />
            </Field>
            <Button
              onClick={() => {
                onChange(items.filter((_, j) => j !== i));
              }}
            >
              Remove {noun} {i + 1}
            </Button>
          </li>
        ))}
      </ol>
      <div>
        <Button
          onClick={() => {
            onChange([...items, newNote()]);
          }}
        >
          Add {noun}
        </Button>
      </div>
    </EditSection>
  );
}
