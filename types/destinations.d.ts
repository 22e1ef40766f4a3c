// What destinations.js lends webhooks.js and xapi.js, declared for the type check only.

/** An admin page of outbound destinations: its element prefix, its API and its forms. */
interface DestinationsPage {
  /** What the page's ids and classes start with: "webhook", "xapi". */
  kind: string;
  /** The API path of the destinations; one is `${base}/${id}`. */
  base: string;
  /** A destination form's fields, as the API takes them. */
  body(form: HTMLFormElement): object;
  /** What a connection test answered, in words. */
  connection(answer: ApiRecord): string;
  /** The question asked before a removal, and its confirming button's label. */
  removal: { question: string; action: string };
}

declare var LecternDestinations: {
  onButtons(selector: string, action: (id: string) => Promise<void>): void;
  callAndReload(method: string, path: string): Promise<void>;
  wire(page: DestinationsPage): void;
};
