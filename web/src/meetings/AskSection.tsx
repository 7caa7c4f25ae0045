// "Ask about this meeting" (meeting page): a question to the meeting's transcripts and notes, the answer
// drawn from them, and the passages it rests on, each a link that plays that moment of its recording.
import {
  Button,
  Caption1,
  Field,
  Input,
  makeStyles,
  Spinner,
  Text,
  Title3,
  tokens,
} from "@fluentui/react-components";
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";

import { ApiError } from "../api/errors";
import { ErrorMessage } from "../components/ErrorMessage";
import { formatTime } from "../recordings/format";
import { askMeeting, recordingAt, type AskAnswer } from "../search/searchApi";

/** The longest question the API takes (MAX_QUESTION_CHARS): the field stops there. */
export const MAX_QUESTION_LENGTH = 1000;

const useStyles = makeStyles({
  section: {
    marginTop: tokens.spacingVerticalXXL,
    display: "grid",
    gap: tokens.spacingVerticalM,
    maxWidth: "760px",
    "& h2": { margin: 0 },
  },
  form: { display: "flex", alignItems: "start", gap: tokens.spacingHorizontalM },
  field: { flexGrow: 1 },
  button: { marginTop: "26px" },
  answer: {
    display: "grid",
    gap: tokens.spacingVerticalS,
    padding: tokens.spacingHorizontalL,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    boxShadow: tokens.shadow2,
  },
  text: { whiteSpace: "pre-wrap", display: "block" },
  sources: { listStyleType: "none", margin: 0, padding: 0, display: "grid", gap: "4px" },
  time: { fontVariantNumeric: "tabular-nums", fontWeight: tokens.fontWeightSemibold },
  none: { color: tokens.colorNeutralForeground3, display: "block" },
});

export function AskSection({ meetingId }: { meetingId: string }) {
  const styles = useStyles();
  const [question, setQuestion] = useState("");
  const [fieldError, setFieldError] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(null);
  const [asking, setAsking] = useState(false);
  const [answer, setAnswer] = useState<(AskAnswer & { question: string }) | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const asked = question.trim();
    setFailure(null);
    if (asked === "") {
      setFieldError("Type a question.");
      return;
    }
    setFieldError(undefined);
    setAsking(true);
    askMeeting(meetingId, asked).then(
      (answered) => {
        setAsking(false);
        setAnswer({ ...answered, question: asked });
      },
      (e: unknown) => {
        setAsking(false);
        const message = e instanceof ApiError ? e.fieldMessage("question") : undefined;
        if (message !== undefined) setFieldError(message);
        else setFailure(e);
      },
    );
  };

  return (
    <section className={styles.section} aria-labelledby="ask-heading">
      <Title3 as="h2" block id="ask-heading">
        Ask about this meeting
      </Title3>
      <form className={styles.form} onSubmit={submit} noValidate>
        <Field
          label="Question"
          className={styles.field}
          hint="Answered from this meeting's transcripts and notes only."
          {...(fieldError === undefined ? {} : { validationState: "error", validationMessage: fieldError })}
        >
          <Input
            value={question}
            maxLength={MAX_QUESTION_LENGTH}
            onChange={(_, data) => {
              setQuestion(data.value);
            }}
          />
        </Field>
        <Button type="submit" appearance="primary" className={styles.button} disabled={asking}>
          Ask
        </Button>
      </form>
      {asking && <Spinner size="tiny" label="Looking through the recordings" />}
      {failure !== null && <ErrorMessage error={failure} />}
      {answer !== null && !asking && (
        <div className={styles.answer} aria-live="polite">
          <Caption1>You asked: {answer.question}</Caption1>
          {/* Text, never HTML: the answer quotes what people said. */}
          <Text as="p" className={styles.text}>
            {answer.answer}
          </Text>
          {answer.sources.length === 0 ? (
            <Caption1 className={styles.none}>No passage of the recordings supports an answer.</Caption1>
          ) : (
            <>
              <Text weight="semibold" id="ask-sources">
                Sources
              </Text>
              <ol className={styles.sources} aria-labelledby="ask-sources">
                {answer.sources.map((source, i) => (
                  <li key={i}>
                    <Link to={recordingAt(meetingId, source.recordingId, source.start)}>
                      <span className={styles.time}>Play from {formatTime(source.start)}</span>
                      {source.speaker ? ` · ${source.speaker}` : ""}: “{source.quote}”
                    </Link>
                  </li>
                ))}
              </ol>
            </>
          )}
        </div>
      )}
    </section>
  );
}
