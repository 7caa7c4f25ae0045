import { Button, Input, Text, makeStyles, tokens } from "@fluentui/react-components";
import { useState, type FormEvent, type ReactNode } from "react";
import { Link, useLocation, useNavigate } from "react-router-dom";

import { useAuth } from "../auth/AuthContext";
import { SignIn } from "../auth/SignIn";
import { LiveIndicator } from "../live/LiveIndicator";
import { LiveProvider } from "../live/LiveProvider";

const useStyles = makeStyles({
  header: {
    display: "flex",
    flexWrap: "wrap",
    alignItems: "center",
    gap: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalL}`,
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
  // Beside the user on a wide screen; a row of its own under them on a phone.
  search: {
    flexBasis: "22rem",
    flexShrink: 1,
    minWidth: "10rem",
    "@media (max-width: 640px)": { order: 1, flexBasis: "100%" },
  },
  searchInput: { width: "100%" },
  main: { maxWidth: "1200px", margin: "0 auto", padding: tokens.spacingHorizontalXL },
});

/**
 * The header's search box (role=search, textbox "Search meetings"): Enter opens `/search?q=`. On the
 * search page it shows the query searched for.
 */
export function SearchBox() {
  const styles = useStyles();
  const navigate = useNavigate();
  const location = useLocation();
  const searched =
    location.pathname === "/search" ? (new URLSearchParams(location.search).get("q") ?? "") : "";
  const [value, setValue] = useState(searched);
  // A new query in the address (back, forward, a link) is what the box shows.
  const [shown, setShown] = useState(searched);
  if (searched !== shown) {
    setShown(searched);
    setValue(searched);
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const q = value.trim();
    if (q !== "") void navigate(`/search?q=${encodeURIComponent(q)}`);
  };
  return (
    <form role="search" aria-label="Search meetings" className={styles.search} onSubmit={submit}>
      {/* type=text, not search: the contract's role is textbox (a searchbox is another role to ARIA). */}
      <Input
        aria-label="Search meetings"
        placeholder="Search meetings"
        maxLength={200}
        className={styles.searchInput}
        value={value}
        onChange={(_, data) => {
          setValue(data.value);
        }}
      />
    </form>
  );
}

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
            <SearchBox />
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
