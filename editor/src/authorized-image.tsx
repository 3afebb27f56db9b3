// Images from the API shown with the API token when there is one (an <img> cannot send a header).

import { useEffect, useState, type ImgHTMLAttributes } from 'react';
import { apiToken } from './auth';
import { useValue } from './store';

/**
 * The URL to show an API image by. An <img> cannot send a header, so with a token the image is
 * fetched with it and shown from a blob URL (freed when no longer shown); without one, as it is.
 */
export function useAuthorizedUrl(url: string): string | undefined {
  const token = useValue(apiToken);
  const needsToken = token !== null && url.startsWith('/api/');
  const [blob, setBlob] = useState<{ url: string; of: string } | null>(null);
  useEffect(() => {
    if (!needsToken) return;
    let objectUrl: string | undefined;
    let cancelled = false;
    void fetch(url, { headers: { authorization: `Bearer ${token}` } })
      .then((response) => (response.ok ? response.blob() : null))
      .then((body) => {
        if (cancelled || !body) return;
        objectUrl = URL.createObjectURL(body);
        setBlob({ url: objectUrl, of: url });
      })
      .catch(() => undefined); // shown as a broken image, as a failed <img> would be
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [url, token, needsToken]);
  if (!needsToken) return url;
  return blob?.of === url ? blob.url : undefined;
}

/** An <img> of an API URL that carries the token when there is one. */
export function AuthorizedImage({ src, ...props }: ImgHTMLAttributes<HTMLImageElement> & { src: string }) {
  return <img {...props} src={useAuthorizedUrl(src)} />;
}
