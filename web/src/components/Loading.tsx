import { Spinner } from "@fluentui/react-components";

export function Loading({ label }: { label: string }) {
  return <Spinner label={label} labelPosition="below" style={{ margin: "2rem" }} />;
}
