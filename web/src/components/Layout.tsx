import { Button, Text, makeStyles, tokens } from "@fluentui/react-components";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";

import { useAuth } from "../auth/AuthContext";
import { SignIn } from "../auth/SignIn";
import { LiveIndicator } from "../live/LiveIndicator";
import { LiveProvider } from "../live/LiveProvider";

const useStyles = makeStyles({
  header: {
    display: "flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalL,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalXL}`,
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  brand: {
    color: tokens.colorNeutralForegroundOnBrand,
    fontWeight: tokens.fontWeightSemibold,
    fontSize: tokens.fontSizeBase500,
    textDecoration: "none",
  },
  spacer: { flexGrow: 1 },
  headerLink: {
    color: tokens.colorNeutralForegroundOnBrand,
    ":hover": { color: tokens.colorNeutralForegroundOnBrand },
  },
  main: { maxWidth: "1200px", margin: "0 auto", padding: tokens.spacingHorizontalXL },
});

export function Layout({ children }: { children: ReactNode }) {
  const styles = useStyles();
  const { user, signOut } = useAuth();
  const page = (
    <>
      <header className={styles.header}>
        <Link to="/" className={styles.brand}>
          video-signaling
        </Link>
        <div className={styles.spacer} />
        {user !== null && (
          <>
            <LiveIndicator />
            <Text>
              Signed in as <strong>{user.name}</strong>
            </Text>
            <Link to="/me" className={styles.headerLink}>
              Your data
            </Link>
            <Button appearance="secondary" onClick={() => void signOut()}>
              Sign out
            </Button>
          </>
        )}
      </header>
      <main className={styles.main}>{user === null ? <SignIn /> : children}</main>
    </>
  );
  // One live connection per signed-in user; a new one when another user signs in.
  return user === null ? page : <LiveProvider userId={user.id}>{page}</LiveProvider>;
}
